import Foundation
public import RehearseCore

/// Reading the history, as ``SQLiteHistory``'s queries do.
extension PostgresHistory {
    public func recentRuns(plan: String? = nil, limit: Int = 20) async throws(HistoryError) -> [Run] {
        try await runs(where: plan == nil ? "" : "WHERE plan_name = $1", plan.map { [$0] } ?? [], order: "id DESC", limit: limit, activities: false)
    }

    public func run(id: Int64) async throws(HistoryError) -> Run? {
        try await runs(where: "WHERE id = $1", [id], order: "id", limit: 1, activities: true).first
    }

    public func groupRuns(prefix: String) async throws(HistoryError) -> [Run] {
        // Hex digits and '-' only: nothing LIKE would read as a wildcard.
        let pattern = prefix.lowercased().filter { $0.isHexDigit || $0 == "-" }
        guard pattern.count >= 4 else { return [] }
        return try await runs(where: "WHERE group_id LIKE $1", [pattern + "%"], order: "id", limit: nil, activities: true)
    }

    public func plansAndTargets(plan: String? = nil) async throws(HistoryError) -> [(plan: String, target: String)] {
        let rows = try await perform { connection throws(PostgresFailure) in
            // In byte order, as SQLite sorts, whatever the database's collation.
            try connection.query("SELECT DISTINCT plan_name COLLATE \"C\" AS plan_name, target COLLATE \"C\" AS target FROM rehearse.run"
                                     + (plan == nil ? "" : " WHERE plan_name = $1") + " ORDER BY 1, 2",
                                 plan.map { [$0] } ?? [])
        }
        return rows.rows.map { (plan: $0.string("plan_name") ?? "", target: $0.string("target") ?? "") }
    }

    public func latestRunID(plan: String? = nil) async throws(HistoryError) -> Int64? {
        try await perform { connection throws(PostgresFailure) in
            try connection.query("SELECT id FROM rehearse.run" + (plan == nil ? "" : " WHERE plan_name = $1") + " ORDER BY id DESC LIMIT 1",
                                 plan.map { [$0] } ?? []).first?.int64("id")
        }
    }

    public func finishedRuns(
        plan: String, target: String, before: Int64? = nil, cut: CutFilter = .any, passedOnly: Bool = false, limit: Int
    ) async throws(HistoryError) -> [Run] {
        var conditions = ["plan_name = $1", "target = $2", "status <> 'running'"]
        var values: [(any PostgresValue)?] = [plan, target]
        func add(_ condition: String, _ value: any PostgresValue) {
            values.append(value)
            conditions.append(condition.replacingOccurrences(of: "?", with: "$\(values.count)"))
        }
        if let before { add("id < ?", before) }
        if passedOnly { add("status = ?", RunStatus.passed.rawValue) }
        if case .only(let only) = cut {
            switch only?.kind {
            case nil: conditions.append("fail_at IS NULL AND cut_before IS NULL")
            case .failAt?: add("fail_at = ?", only?.step ?? "")
            case .before?: add("cut_before = ?", only?.step ?? "")
            }
        }
        return try await runs(where: "WHERE " + conditions.joined(separator: " AND "), values, order: "id DESC", limit: limit, activities: true)
    }

    public func runs(plan: String, target: String, limit: Int = 50) async throws(HistoryError) -> [Run] {
        try await runs(where: "WHERE plan_name = $1 AND target = $2", [plan, target], order: "id DESC", limit: limit, activities: false)
    }

    public func latestRecoverableRunID() async throws(HistoryError) -> Int64? {
        try await perform { connection throws(PostgresFailure) in
            try connection.query("SELECT id FROM rehearse.run WHERE status <> 'running' AND left_applied <> '' ORDER BY id DESC LIMIT 1")
                .first?.int64("id")
        }
    }

    public func latestLeftoverRun(onTarget target: String, copy: Int, host: String?) async throws(HistoryError) -> Run? {
        try await runs(where: """
            WHERE \(Self.onCopy) AND (left_applied <> '' OR status = 'running' OR (kind = 'live' AND status = 'applied'))
                AND id > coalesce((SELECT id FROM rehearse.run WHERE \(Self.onCopy) AND status IN ('passed', 'over-budget') AND left_applied = ''
                                   ORDER BY id DESC LIMIT 1), 0)
            """, [target, copy, host], order: "id DESC", limit: 1, activities: true).first
    }

    public func latestUnclearedFingerprintDifference(plan: String, target: String, copy: Int, host: String?) async throws(HistoryError) -> Run? {
        try await runs(where: """
            WHERE \(Self.onCopy) AND plan_name = $4 AND reasons_json LIKE '%"fingerprint-differs"%' AND fingerprint_before IS NOT NULL
                AND id > coalesce((SELECT id FROM rehearse.run WHERE \(Self.onCopy) AND plan_name = $4 AND status IN ('passed', 'over-budget')
                                       AND fingerprint_before IS NOT NULL ORDER BY id DESC LIMIT 1), 0)
            """, [target, copy, host, plan], order: "id DESC", limit: 1, activities: true).first
    }

    public func latestRemakingRun(onTarget target: String, copy: Int, host: String?, after: Int64) async throws(HistoryError) -> Run? {
        try await runs(where: """
            WHERE \(Self.onCopy) AND id > $4
                AND EXISTS (SELECT 1 FROM rehearse.activity AS a WHERE a.run_id = rehearse.run.id AND a.kind IN ('setup', 'teardown')
                            AND a.name = rehearse.run.target AND a.status = 'passed')
            """, [target, copy, host, after], order: "id DESC", limit: 1, activities: true).first
    }

    /// Runs on target `$1`'s copy `$2` recorded by host `$3` (any host when NULL).
    private static let onCopy = "target = $1 AND coalesce(copy, 1) = $2 AND ($3::text IS NULL OR host = $3)"

    public func size() async throws(HistoryError) -> (runs: Int, activities: Int, bytes: Int) {
        let row = try await perform { connection throws(PostgresFailure) in
            try connection.query("""
                SELECT (SELECT count(*) FROM rehearse.run) AS runs, (SELECT count(*) FROM rehearse.activity) AS activities,
                    pg_total_relation_size('rehearse.run') + pg_total_relation_size('rehearse.activity') AS bytes
                """).first
        }
        return (row?.int("runs") ?? 0, row?.int("activities") ?? 0, row?.int("bytes") ?? 0)
    }

    /// Runs in `order`, with their activities when asked.
    private func runs(
        where condition: String, _ values: [(any PostgresValue)?], order: String, limit: Int?, activities: Bool
    ) async throws(HistoryError) -> [Run] {
        try await perform { connection throws(PostgresFailure) -> [Run] in
            try Self.records(connection, where: condition, values, order: order, limit: limit, activities: activities)
                .map { Self.recorded($0.run, activities: $0.activities) }
        }
    }

    /// The rows of runs in `order`, and of their activities when asked (one query for all of them).
    static func records(
        _ connection: PostgresConnection, where condition: String, _ values: [(any PostgresValue)?], order: String, limit: Int?,
        activities: Bool, timeout: Duration = PostgresConnection.answerTimeout
    ) throws(PostgresFailure) -> [RecordedRun] {
        let rows = try connection.query(
            "SELECT * FROM rehearse.run \(condition) ORDER BY \(order)" + (limit.map { " LIMIT \(max(0, $0))" } ?? ""), values, timeout: timeout
        ).rows.map { row throws(PostgresFailure) in try RunRow(postgres: row) }
        var byRun: [Int64: [ActivityRow]] = [:]
        if activities, !rows.isEmpty {
            let ids = postgresArray(rows.compactMap(\.id).map(String.init))
            for found in try connection.query("SELECT * FROM rehearse.activity WHERE run_id = ANY($1::bigint[]) ORDER BY id", [ids], timeout: timeout).rows {
                let activity = try ActivityRow(postgres: found)
                byRun[activity.runId, default: []].append(activity)
            }
        }
        return rows.map { RecordedRun(run: $0, activities: byRun[$0.id ?? 0] ?? []) }
    }
}

import Foundation
import GRDB
public import RehearseCore

/// Reading the history: recent runs, one run in full, and the runs `compare` and `gate` need.
extension SQLiteHistory {
    /// The most recent runs, newest first, optionally of one plan; without their activities.
    public func recentRuns(plan: String? = nil, limit: Int = 20) async throws(HistoryError) -> [Run] {
        try await read { db in
            var request = RunRow.order(Column("id").desc).limit(limit)
            if let plan { request = request.filter(Column("plan_name") == plan) }
            return try request.fetchAll(db).map { Self.recorded($0, activities: []) }
        }
    }

    /// One run with every activity, or nil when there is no such run.
    public func run(id: Int64) async throws(HistoryError) -> Run? {
        try await read { db in
            guard let row = try RunRow.fetchOne(db, key: id) else { return nil }
            let activities = try ActivityRow.filter(Column("run_id") == id).order(Column("id")).fetchAll(db)
            return Self.recorded(row, activities: activities)
        }
    }

    /// The runs of every-cut groups whose id starts with `prefix` (at least 4 characters), oldest
    /// first, with their activities. Several groups when the prefix is ambiguous.
    public func groupRuns(prefix: String) async throws(HistoryError) -> [Run] {
        let pattern = prefix.lowercased().filter { $0.isHexDigit || $0 == "-" }
        guard pattern.count >= 4 else { return [] }
        return try await read { db in
            let rows = try RunRow.filter(sql: "group_id LIKE ? ESCAPE '\\'", arguments: [pattern + "%"]).order(Column("id")).fetchAll(db)
            return try rows.map { row in
                let activities = try ActivityRow.filter(Column("run_id") == row.id!).order(Column("id")).fetchAll(db)
                return Self.recorded(row, activities: activities)
            }
        }
    }

    /// Every plan and target the history has runs of, by plan name, then target.
    public func plansAndTargets(plan: String? = nil) async throws(HistoryError) -> [(plan: String, target: String)] {
        try await read { db in
            var sql = "SELECT DISTINCT plan_name, target FROM run"
            var arguments: StatementArguments = []
            if let plan {
                sql += " WHERE plan_name = ?"
                arguments = [plan]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY plan_name, target", arguments: arguments)
                .map { (plan: $0["plan_name"], target: $0["target"]) }
        }
    }

    /// The id of the newest run (of a plan, when given).
    public func latestRunID(plan: String? = nil) async throws(HistoryError) -> Int64? {
        try await read { db in
            var request = RunRow.select(Column("id")).order(Column("id").desc)
            if let plan { request = request.filter(Column("plan_name") == plan) }
            return try Int64.fetchOne(db, request)
        }
    }

    /// Finished runs of a plan on a target, newest first, with their activities; optionally only
    /// those of one cut, only those that passed.
    public func finishedRuns(
        plan: String, target: String, before: Int64? = nil, cut: CutFilter = .any, passedOnly: Bool = false, limit: Int
    ) async throws(HistoryError) -> [Run] {
        try await read { db in
            var request = RunRow
                .filter(Column("plan_name") == plan && Column("target") == target && Column("status") != RunStatus.running.rawValue)
                .order(Column("id").desc).limit(limit)
            if let before { request = request.filter(Column("id") < before) }
            if passedOnly { request = request.filter(Column("status") == RunStatus.passed.rawValue) }
            if case .only(let only) = cut {
                switch only?.kind {
                case nil: request = request.filter(Column("fail_at") == nil && Column("cut_before") == nil)
                case .failAt?: request = request.filter(Column("fail_at") == only?.step)
                case .before?: request = request.filter(Column("cut_before") == only?.step)
                }
            }
            let rows = try request.fetchAll(db)
            return try rows.map { row in
                let activities = try ActivityRow.filter(Column("run_id") == row.id!).order(Column("id")).fetchAll(db)
                return Self.recorded(row, activities: activities)
            }
        }
    }

    /// Runs of a plan on a target (any status), newest first, without activities: what `gate` weighs.
    public func runs(plan: String, target: String, limit: Int = 50) async throws(HistoryError) -> [Run] {
        try await read { db in
            try RunRow.filter(Column("plan_name") == plan && Column("target") == target)
                .order(Column("id").desc).limit(limit).fetchAll(db)
                .map { Self.recorded($0, activities: []) }
        }
    }

    /// The newest run that may still have steps applied (abandoned, interrupted, or left something
    /// applied), for `recover` without a run id.
    public func latestRecoverableRunID() async throws(HistoryError) -> Int64? {
        try await read { db in
            try Int64.fetchOne(db, sql: """
                SELECT id FROM run WHERE status != 'running' AND left_applied != '' ORDER BY id DESC LIMIT 1
                """)
        }
    }

    /// Only the runs after the newest that passed on the copy are read (a pass leaves the copy as
    /// it found it, and no run starts on a copy left changed): a backward scan that stops at once
    /// when runs pass, instead of reading every run when none ever left anything.
    public func latestLeftoverRun(onTarget target: String, copy: Int, host: String?) async throws(HistoryError) -> Run? {
        try await newestRun("""
            \(Self.onCopy) AND (left_applied <> '' OR status = 'running' OR (kind = 'live' AND status = 'applied'))
                AND id > coalesce((SELECT id FROM run WHERE \(Self.onCopy) AND status IN ('passed', 'over-budget') AND left_applied = ''
                                   ORDER BY id DESC LIMIT 1), 0)
            """, [target, copy, host])
    }

    /// Through `run_by_plan_target`: the plan's runs on the target, newest first, to its newest
    /// pass with a fingerprint.
    public func latestUnclearedFingerprintDifference(plan: String, target: String, copy: Int, host: String?) async throws(HistoryError) -> Run? {
        try await newestRun("""
            \(Self.onCopy) AND plan_name = ?4 AND reasons_json LIKE '%"fingerprint-differs"%' AND fingerprint_before IS NOT NULL
                AND id > coalesce((SELECT id FROM run WHERE \(Self.onCopy) AND plan_name = ?4 AND status IN ('passed', 'over-budget')
                                       AND fingerprint_before IS NOT NULL ORDER BY id DESC LIMIT 1), 0)
            """, [target, copy, host, plan])
    }

    /// Only the runs after `after` are read (by id, then their activities by `activity_by_run`).
    public func latestRemakingRun(onTarget target: String, copy: Int, host: String?, after: Int64) async throws(HistoryError) -> Run? {
        try await newestRun("""
            \(Self.onCopy) AND id > ?4 AND EXISTS (SELECT 1 FROM activity AS a WHERE a.run_id = run.id AND a.kind IN ('setup', 'teardown')
                                                  AND a.name = run.target AND a.status = 'passed')
            """, [target, copy, host, after])
    }

    /// Runs on target `?1`'s copy `?2` recorded by host `?3` (any host when NULL).
    private static let onCopy = "target = ?1 AND coalesce(copy, 1) = ?2 AND (?3 IS NULL OR host = ?3)"

    /// The newest run (with its activities) matching `condition`.
    private func newestRun(_ condition: String, _ arguments: StatementArguments) async throws(HistoryError) -> Run? {
        let id = try await read { db -> Int64? in
            try Int64.fetchOne(db, sql: "SELECT id FROM run WHERE \(condition) ORDER BY id DESC LIMIT 1", arguments: arguments)
        }
        guard let id else { return nil }
        return try await run(id: id)
    }

    /// How many runs, activities and bytes the history holds.
    public func size() async throws(HistoryError) -> (runs: Int, activities: Int, bytes: Int) {
        let counts = try await read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM run") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM activity") ?? 0)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return (counts.0, counts.1, bytes)
    }
}

import Foundation
import GRDB
public import RehearseCore

/// Reading the history: recent runs, one run in full, and the runs `compare` and `gate` need.
extension HistoryStore {
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

    /// Which runs to take by what they rehearsed.
    public enum CutFilter: Sendable {
        case any
        /// Only runs with this cut (`nil`: full rehearsals, in a group or not).
        case only(Cut?)
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

    /// How many runs, activities and bytes the history holds.
    public func size() async throws(HistoryError) -> (runs: Int, activities: Int, bytes: Int) {
        let counts = try await read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM run") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM activity") ?? 0)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return (counts.0, counts.1, bytes)
    }

    static func recorded(_ row: RunRow, activities: [ActivityRow]) -> Run {
        func duration(_ ns: Int64?) -> Duration? { ns.map { .nanoseconds($0) } }
        func lines(_ text: String) -> [String] { text.isEmpty ? [] : text.split(separator: "\n").map(String.init) }
        // A row finished by an older `rehearse` on a shared history has text only: its codes come
        // from the text, as migration v2 gives them.
        var trigger: RollbackTrigger?
        if let offset = row.triggerOffsetNs,
           let reason = (row.triggerCode ?? row.trigger.flatMap(HistorySchema.legacyTriggerCode)).flatMap(RollbackTrigger.Reason.init(code:)) {
            trigger = RollbackTrigger(reason: reason, offset: .nanoseconds(offset))
        }
        var reasons = (try? JSONDecoder().decode([RunReason].self, from: Data(row.reasonsJSON.utf8))) ?? []
        if reasons.isEmpty { reasons = lines(row.reasons).map(RunReason.text) }
        var run = Run(
            id: row.id ?? 0, planName: row.planName, planFile: row.planFile, planText: row.planText, planHash: row.planHash,
            strategy: row.strategy, target: row.target,
            provenance: RunProvenance(host: row.host, user: row.user, pid: row.pid, toolVersion: row.toolVersion, gitCommit: row.gitCommit),
            cut: row.failAt.map(Cut.failAt) ?? row.cutBefore.map(Cut.before), stepCount: row.stepCount,
            group: row.groupId.map {
                RunGroup(id: $0, size: row.groupSize ?? 0, shard: row.groupShard,
                         kind: row.groupKind.flatMap(RunGroup.Kind.init(rawValue:)) ?? .everyCut)
            },
            copy: row.copy, inputHashes: (try? JSONDecoder().decode([String: String].self, from: Data(row.inputsJSON.utf8))) ?? [:],
            jobs: row.jobs, startedAt: Self.date(nanoseconds: row.startedAtNs),
            endedAt: row.endedAtNs.map(Self.date(nanoseconds:)),
            status: RunStatus(rawValue: row.status) ?? .failed, budget: .nanoseconds(row.budgetNs),
            forward: duration(row.forwardNs), rollback: duration(row.rollbackNs), total: duration(row.totalNs),
            trigger: trigger, fingerprintBefore: row.fingerprintBefore, fingerprintAfter: row.fingerprintAfter,
            reasons: reasons, leftApplied: lines(row.leftApplied), strayProcesses: lines(row.strayProcesses),
            activities: activities.map(record), processMark: row.processMark)
        run.logsFolder = row.logsFolder
        run.copyServices = lines(row.copyServices)
        run.uid = row.uid
        run.fingerprintControl = row.fingerprintControl
        run.fingerprints = FingerprintFacts.fingerprints(
            texts: (row.fingerprintBefore, row.fingerprintAfter, row.fingerprintControl),
            facts: Self.decodeFingerprintFacts(row.fingerprintsJSON))
        run.modes = lines(row.modes)
        run.kind = RunKind(rawValue: row.kind) ?? .rehearsal
        run.approval = row.approvalJSON.flatMap(Self.decodeApproval)
        run.evidence = row.evidence
        run.evidenceRun = row.evidenceRun
        return run
    }

    static func record(_ row: ActivityRow) -> ActivityRecord {
        var termination: ProcessOutcome.Termination?
        if let code = row.exitStatus {
            termination = .exited(code)
        } else if let signal = row.signal {
            termination = .signaled(signal)
        } else if let error = row.error {
            termination = .couldNotStart(error)
        }
        return ActivityRecord(
            Activity(Activity.Kind(rawValue: row.kind) ?? .forward, row.name),
            status: ActivityStatus(rawValue: row.status) ?? .failed,
            startOffset: row.startOffsetNs.map { .nanoseconds($0) }, duration: row.durationNs.map { .nanoseconds($0) },
            termination: termination, timedOut: row.timedOut, outputTail: row.outputTail, logFile: row.logFile)
    }
}

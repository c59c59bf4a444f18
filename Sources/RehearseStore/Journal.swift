public import Foundation
import GRDB
public import RehearseCore

/// What a run is, known before its first command: enough for its journal row.
public struct RunStart: Sendable {
    public var plan: Plan
    public var target: String
    public var failAt: String?
    public var jobs: Int
    public var toolVersion: String
    public var gitCommit: String?
    public var logsFolder: String?
    /// The token every command of the run carries as `REHEARSE_RUN_TOKEN`.
    public var processMark: String?
    public var startedAt: Date

    public init(plan: Plan, target: String, failAt: String?, jobs: Int, toolVersion: String, gitCommit: String?,
                logsFolder: String?, processMark: String? = nil, startedAt: Date = Date()) {
        self.processMark = processMark
        self.plan = plan
        self.target = target
        self.failAt = failAt
        self.jobs = jobs
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.logsFolder = logsFolder
        self.startedAt = startedAt
    }
}

/// Writing runs as they happen: the run's row before its first command, each activity when it
/// starts and when it ends, the verdict at the end. A harness killed at any moment leaves exactly
/// what had started in the journal.
extension HistoryStore {
    /// Records a new run as `running` and returns its id, the run id users see.
    public func beginRun(_ start: RunStart) throws(HistoryError) -> Int64 {
        let identity = ProcessIdentity.current
        let plan = start.plan
        let row = RunRow(
            id: nil, planName: plan.name, planFile: URL(fileURLWithPath: plan.file).standardizedFileURL.path,
            planText: plan.source, planHash: ContentHash.of(plan.source), strategy: plan.strategy.id, target: start.target,
            host: identity.host, user: ProcessInfo.processInfo.environment["USER"] ?? NSUserName(), pid: identity.pid,
            pidStart: identity.start, toolVersion: start.toolVersion, gitCommit: start.gitCommit, failAt: start.failAt,
            jobs: start.jobs, startedAtNs: Self.nanoseconds(start.startedAt), endedAtNs: nil,
            status: RecordedRun.Status.running.rawValue, budgetNs: plan.budget.rollback.nanoseconds, forwardNs: nil,
            rollbackNs: nil, totalNs: nil, trigger: nil, triggerOffsetNs: nil, fingerprintBefore: nil,
            fingerprintAfter: nil, reasons: "", leftApplied: "", logsFolder: start.logsFolder,
            processMark: start.processMark)
        return try write { [row] db in
            var row = row
            try row.insert(db)
            return row.id!
        }
    }

    /// Records that an activity started; returns its row id for ``activityFinished(run:row:_:)``.
    ///
    /// This write sits between one step's end and the next one's start, so it uses a cached
    /// statement rather than encoding a record.
    public func activityStarted(run: Int64, _ activity: Activity, offset: Duration) throws(HistoryError) -> Int64 {
        try write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO activity (run_id, kind, name, status, start_offset_ns, timed_out) VALUES (?, ?, ?, 'running', ?, 0)
                """)
            try statement.execute(arguments: [run, activity.kind.rawValue, activity.name, offset.nanoseconds])
            return db.lastInsertedRowID
        }
    }

    /// Records how an activity ended: updates its row, or adds one when it never started
    /// (a blocked rollback, a `--fail-at` cut).
    public func activityFinished(run: Int64, row: Int64?, _ execution: Execution) throws(HistoryError) {
        try write { db in
            let outcome = execution.outcome
            var exit: Int32?, signal: Int32?, error: String?
            switch outcome?.termination {
            case .exited(let code): exit = code
            case .signaled(let number): signal = number
            case .couldNotStart(let reason): error = reason
            case nil: break
            }
            let values: StatementArguments = [
                execution.status.rawValue, outcome?.startOffset.nanoseconds, outcome?.duration.nanoseconds, exit, signal,
                outcome?.timedOut ?? false, outcome?.outputTail, outcome?.logFile, error,
            ]
            if let row {
                let statement = try db.cachedStatement(sql: """
                    UPDATE activity SET status = ?, start_offset_ns = ?, duration_ns = ?, exit_status = ?, signal = ?,
                        timed_out = ?, output_tail = ?, log_file = ?, error = ?
                    WHERE id = ?
                    """)
                try statement.execute(arguments: values + [row])
            } else {
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO activity (status, start_offset_ns, duration_ns, exit_status, signal, timed_out, output_tail,
                        log_file, error, run_id, kind, name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                try statement.execute(arguments: values + [run, execution.activity.kind.rawValue, execution.activity.name])
            }
        }
    }

    /// Records the moment and the reason of the rollback trigger.
    public func rollbackTriggered(run: Int64, _ trigger: RollbackTrigger) throws(HistoryError) {
        try write { db in
            try db.execute(sql: "UPDATE run SET trigger = ?, trigger_offset_ns = ? WHERE id = ?",
                           arguments: [trigger.description, trigger.offset.nanoseconds, run])
        }
    }

    /// Records the verdict and the figures of a finished run.
    public func finishRun(run: Int64, _ record: RunRecord) throws(HistoryError) {
        let status: RecordedRun.Status = switch record.verdict.outcome {
        case .passed: .passed
        case .overBudget: .overBudget
        case .failed: .failed
        case .interrupted: .interrupted
        }
        try write { db in
            try db.execute(sql: """
                UPDATE run SET status = ?, ended_at_ns = ?, forward_ns = ?, rollback_ns = ?, total_ns = ?,
                    fingerprint_before = ?, fingerprint_after = ?, reasons = ?, left_applied = ?
                WHERE id = ?
                """, arguments: [
                    status.rawValue, Self.nanoseconds(Date()), record.forwardDuration?.nanoseconds,
                    record.rollbackDuration?.nanoseconds, record.totalDuration.nanoseconds,
                    record.fingerprintBefore, record.fingerprintAfter, record.verdict.reasons.joined(separator: "\n"),
                    record.leftApplied.joined(separator: "\n"), run,
                ])
        }
    }

    /// After `recover`: what is still applied.
    public func recordRecovery(run: Int64, stillApplied: [String]) throws(HistoryError) {
        try write { db in
            try db.execute(sql: "UPDATE run SET left_applied = ? WHERE id = ?",
                           arguments: [stillApplied.joined(separator: "\n"), run])
        }
    }

    /// A run whose harness died, and the token its commands carried.
    public struct AbandonedRun: Sendable {
        public var id: Int64
        public var processMark: String?
    }

    /// Marks `running` runs whose harness no longer exists as `abandoned` (their in-flight
    /// activities as `in-flight`), and returns them. Runs of other hosts are left alone.
    @discardableResult
    public func markAbandoned() throws(HistoryError) -> [AbandonedRun] {
        let running = try read { db in try RunRow.filter(Column("status") == RecordedRun.Status.running.rawValue).fetchAll(db) }
        let deadRows = running.filter { !ProcessIdentity(host: $0.host, pid: $0.pid, start: $0.pidStart).isAlive }
        let dead = deadRows.compactMap(\.id)
        guard !dead.isEmpty else { return [] }
        try write { db in
            for id in dead {
                try db.execute(sql: "UPDATE activity SET status = ? WHERE run_id = ? AND status = 'running'",
                               arguments: [RecordedActivity.inFlight, id])
                try db.execute(sql: "UPDATE run SET status = ? WHERE id = ? AND status = 'running'",
                               arguments: [RecordedRun.Status.abandoned.rawValue, id])
            }
        }
        for id in dead {
            if let run = try self.run(id: id) {
                try recordRecovery(run: id, stillApplied: run.stillApplied)
            }
        }
        return deadRows.map { AbandonedRun(id: $0.id ?? 0, processMark: $0.processMark) }
    }

    static func nanoseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1e9).rounded())
    }
}

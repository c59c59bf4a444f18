import Foundation
import GRDB
public import RehearseCore

/// Writing runs as they happen: the run's row before its first command, each activity when it
/// starts and when it ends, the verdict at the end. A harness killed at any moment leaves exactly
/// what had started in the journal.
///
/// Every write suspends the calling task until SQLite has it (WAL: a killed harness never loses a
/// committed row); none blocks a thread of the cooperative pool.
extension SQLiteHistory {
    /// Records `run` (status `running`) and returns it numbered, with its plan's content hash.
    public func beginRun(_ run: Run, logsFolder: String? = nil) async throws(HistoryError) -> Run {
        let (row, started) = Self.startingRow(for: run, logsFolder: logsFolder)
        var run = started
        run.id = try await write { [row] db in
            var row = row
            try row.insert(db)
            return row.id!
        }
        return run
    }

    /// Records that an activity started; returns its row id for ``activityFinished(run:row:_:)``.
    ///
    /// This write sits between one step's end and the next one's start, so it uses a cached
    /// statement rather than encoding a record.
    public func activityStarted(run: Int64, _ activity: Activity, offset: Duration) async throws(HistoryError) -> Int64 {
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO activity (run_id, kind, name, status, start_offset_ns, timed_out) VALUES (?, ?, ?, 'running', ?, 0)
                """)
            try statement.execute(arguments: [run, activity.kind.rawValue, activity.name, offset.nanoseconds])
            return db.lastInsertedRowID
        }
    }

    /// Records how an activity ended: updates its row, or adds one when it never started
    /// (a blocked rollback, a `--fail-at` cut).
    public func activityFinished(run: Int64, row: Int64?, _ record: ActivityRecord) async throws(HistoryError) {
        try await write { db in try Self.finish(db, run: run, row: row, record) }
    }

    /// In one transaction: how the given activities ended, then that `starting` started (its row
    /// id is returned). One commit between one step's end and the next one's start instead of two.
    public func journal(
        run: Int64, finished: [(row: Int64?, record: ActivityRecord)], starting: Activity?, offset: Duration
    ) async throws(HistoryError) -> Int64? {
        try await write { [finished] db in
            for (row, record) in finished { try Self.finish(db, run: run, row: row, record) }
            guard let starting else { return nil }
            let statement = try db.cachedStatement(sql: """
                INSERT INTO activity (run_id, kind, name, status, start_offset_ns, timed_out) VALUES (?, ?, ?, 'running', ?, 0)
                """)
            try statement.execute(arguments: [run, starting.kind.rawValue, starting.name, offset.nanoseconds])
            return db.lastInsertedRowID
        }
    }

    private static func finish(_ db: Database, run: Int64, row: Int64?, _ record: ActivityRecord) throws {
        let values: StatementArguments = [
            record.status.rawValue, record.startOffset?.nanoseconds, record.duration?.nanoseconds, record.exitStatus,
            record.signal, record.timedOut, record.outputTail, record.logFile, record.startError,
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
            try statement.execute(arguments: values + [run, record.kind.rawValue, record.name])
        }
    }

    /// Records the fingerprint of a window's control copy (what `recover` compares with when the
    /// window's writes ran).
    public func fingerprintTaken(run: Int64, control: FingerprintOutput) async throws(HistoryError) {
        try await recordFingerprint(run: run, column: "fingerprint_control", key: "control", control)
    }

    /// Records the fingerprint taken before the forward steps (what `recover` compares with).
    public func fingerprintTaken(run: Int64, before: FingerprintOutput) async throws(HistoryError) {
        try await recordFingerprint(run: run, column: "fingerprint_before", key: "before", before)
    }

    /// One fingerprint's text into its column, and its size and digest into `fingerprints_json`.
    private func recordFingerprint(run: Int64, column: String, key: String, _ output: FingerprintOutput) async throws(HistoryError) {
        try await write { db in
            let stored = try String.fetchOne(db, sql: "SELECT fingerprints_json FROM run WHERE id = ?", arguments: [run])
            var facts = Self.decodeFingerprintFacts(stored)
            facts[key] = FingerprintFacts(output)
            try db.execute(sql: "UPDATE run SET \(column) = ?, fingerprints_json = ? WHERE id = ?",
                           arguments: [output.text, Self.encodeFingerprintFacts(facts), run])
        }
    }

    /// Records the moment and the reason of the rollback trigger.
    public func rollbackTriggered(run: Int64, _ trigger: RollbackTrigger) async throws(HistoryError) {
        try await write { db in
            try db.execute(sql: "UPDATE run SET trigger = ?, trigger_code = ?, trigger_offset_ns = ? WHERE id = ?",
                           arguments: [trigger.description, trigger.reason.code, trigger.offset.nanoseconds, run])
        }
    }

    /// Records the verdict and the figures of a finished run.
    public func finishRun(_ run: Run) async throws(HistoryError) {
        let columns = try Self.finishedColumns(run, path: path)
        let values: [DatabaseValue] = columns.map { column in
            switch column.value {
            case .text(let text): text.databaseValue
            case .integer(let number): number.databaseValue
            }
        }
        let sql = "UPDATE run SET \(columns.map { $0.assignment("?") }.joined(separator: ", ")) WHERE id = ?"
        try await write { db in
            try db.execute(sql: sql, arguments: StatementArguments(values + [run.id.databaseValue]))
        }
    }

    /// Where the run's logs are, kept as soon as the folder exists: a run killed before its end
    /// is recovered with its logs beside its own.
    public func recordLogsFolder(run: Int64, _ path: String) async throws(HistoryError) {
        try await write { db in
            try db.execute(sql: "UPDATE run SET logs_folder = ? WHERE id = ?", arguments: [path, run])
        }
    }

    /// A finished run goes on in this process (a live run's `go --finish` or `rollback`): it is
    /// `running` again, held by this process, so that a second one is refused and a harness killed
    /// meanwhile leaves it abandoned. Returns false when it is no longer `expected` (another
    /// process took it first).
    public func reopenRun(_ run: Int64, expected: RunStatus, by provenance: RunProvenance) async throws(HistoryError) -> Bool {
        let identity = ProcessIdentity.current
        return try await write { db in
            try db.execute(sql: "UPDATE run SET status = 'running', host = ?, pid = ?, pid_start = ? WHERE id = ? AND status = ?",
                           arguments: [provenance.host, provenance.pid, identity.pid == provenance.pid ? identity.start : "", run, expected.rawValue])
            return db.changesCount == 1
        }
    }

    /// Gives a run taken over by ``reopenRun(_:expected:by:)`` its status back, and the host and
    /// pid of the harness that first ran it.
    public func releaseRun(_ run: Int64, status: RunStatus, host: String, pid: Int32) async throws(HistoryError) {
        try await write { db in
            try db.execute(sql: "UPDATE run SET status = ?, host = ?, pid = ?, pid_start = '' WHERE id = ?",
                           arguments: [status.rawValue, host, pid, run])
        }
    }

    /// After `recover`: what is still applied.
    public func recordRecovery(run: Int64, stillApplied: [String]) async throws(HistoryError) {
        try await write { db in
            try db.execute(sql: "UPDATE run SET left_applied = ? WHERE id = ?",
                           arguments: [stillApplied.joined(separator: "\n"), run])
        }
    }

    /// Marks `running` runs whose harness no longer exists as `abandoned` (their in-flight
    /// activities as `in-flight`), and returns them. Runs of other hosts are left alone.
    @discardableResult
    public func markAbandoned() async throws(HistoryError) -> [AbandonedRun] {
        let running = try await read { db in try RunRow.filter(Column("status") == RunStatus.running.rawValue).fetchAll(db) }
        let deadRows = running.filter { !ProcessIdentity(host: $0.host, pid: $0.pid, start: $0.pidStart).isAlive }
        let dead = deadRows.compactMap(\.id)
        guard !dead.isEmpty else { return [] }
        try await write { db in
            for id in dead {
                try db.execute(sql: "UPDATE activity SET status = ? WHERE run_id = ? AND status = 'running'",
                               arguments: [ActivityStatus.inFlight.rawValue, id])
                try db.execute(sql: "UPDATE run SET status = ? WHERE id = ? AND status = 'running'",
                               arguments: [RunStatus.abandoned.rawValue, id])
            }
        }
        try await recordWhatIsStillApplied(dead)
        return deadRows.map(Self.abandoned)
    }

}

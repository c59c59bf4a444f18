import Foundation
public import RehearseCore

/// The journal, as ``SQLiteHistory``'s: each write returns once PostgreSQL has committed it.
extension PostgresHistory {
    public func beginRun(_ run: Run, logsFolder: String? = nil) async throws(HistoryError) -> Run {
        let (row, started) = Self.startingRow(for: run, logsFolder: logsFolder)
        var run = started
        let uid = run.uid ?? ""
        let (targetName, copy) = (run.target, run.copy ?? 1)
        let target = PostgresTargetLock.key(target: targetName, copy: copy)
        let location = self.location
        run.id = try await performHolding { connection, holdings throws(PostgresFailure) -> Int64 in
            // Held before the row exists: a run recorded as running always has a live holder.
            guard try Self.takeRunLock(connection, uid, &holdings) else {
                throw PostgresFailure.taken("run \(uid) is held by another harness")
            }
            do throws(PostgresFailure) {
                return try connection.transaction { () throws(PostgresFailure) -> Int64 in
                    let id = try connection.query("""
                        INSERT INTO rehearse.run (\(RunRow.postgresColumns.joined(separator: ", ")), heartbeat_ns)
                        VALUES (\(postgresPlaceholders(RunRow.postgresColumns.count)), \(Self.serverNow)) RETURNING id
                        """, row.postgresValues).first?.int64("id") ?? 0
                    // The target this process holds for it names it: while it beats, no one else takes that copy.
                    if holdings.targets.contains(target) {
                        try connection.query("UPDATE rehearse.target_holder SET run_id = $1 WHERE target = $2 AND copy = $3",
                                             [id, targetName, copy])
                    }
                    return id
                }
            } catch {
                Self.releaseRunLock(connection, uid, &holdings)
                throw error
            }
        } explaining: { error in
            error.sqlstate == PostgresFailure.takenState
                ? HistoryError(.other, path: location, message: error.message, remedy: "record it under another id") : nil
        }
        return run
    }

    public func activityStarted(run: Int64, _ activity: Activity, offset: Duration) async throws(HistoryError) -> Int64 {
        try await perform { connection throws(PostgresFailure) in
            try Self.start(connection, run: run, activity, offset: offset)
        }
    }

    public func activityFinished(run: Int64, row: Int64?, _ record: ActivityRecord) async throws(HistoryError) {
        try await perform { connection throws(PostgresFailure) in try Self.finish(connection, run: run, row: row, record) }
    }

    public func journal(
        run: Int64, finished: [(row: Int64?, record: ActivityRecord)], starting: Activity?, offset: Duration
    ) async throws(HistoryError) -> Int64? {
        let finished = finished.map { Finished(row: $0.row, record: $0.record) }
        return try await perform { connection throws(PostgresFailure) in
            try connection.transaction { () throws(PostgresFailure) -> Int64? in
                for entry in finished { try Self.finish(connection, run: run, row: entry.row, entry.record) }
                guard let starting else { return nil }
                return try Self.start(connection, run: run, starting, offset: offset)
            }
        }
    }

    private struct Finished: Sendable {
        var row: Int64?
        var record: ActivityRecord
    }

    /// A command's start, only into a run still running: one that another harness marked
    /// abandoned meanwhile (and may be recovering) is not this one's to go on with.
    private static func start(_ connection: PostgresConnection, run: Int64, _ activity: Activity, offset: Duration) throws(PostgresFailure) -> Int64 {
        guard let id = try connection.query("""
            INSERT INTO rehearse.activity (run_id, kind, name, status, start_offset_ns, timed_out)
            SELECT $1::bigint, $2, $3, 'running', $4::bigint, false
            WHERE EXISTS (SELECT 1 FROM rehearse.run WHERE id = $1::bigint AND status = 'running')
            RETURNING id
            """, [run, activity.kind.rawValue, activity.name, offset.nanoseconds]).first?.int64("id")
        else { throw PostgresFailure.taken("run \(run) is no longer running in the history: another harness took it over") }
        return id
    }

    private static func finish(_ connection: PostgresConnection, run: Int64, row: Int64?, _ record: ActivityRecord) throws(PostgresFailure) {
        let values: [(any PostgresValue)?] = [
            record.status.rawValue, record.startOffset?.nanoseconds, record.duration?.nanoseconds, record.exitStatus,
            record.signal, record.timedOut, record.outputTail, record.logFile, record.startError,
        ]
        if let row {
            try connection.query("""
                UPDATE rehearse.activity SET status = $1, start_offset_ns = $2, duration_ns = $3, exit_status = $4, signal = $5,
                    timed_out = $6, output_tail = $7, log_file = $8, error = $9
                WHERE id = $10
                """, values + [row])
        } else {
            try connection.query("""
                INSERT INTO rehearse.activity (status, start_offset_ns, duration_ns, exit_status, signal, timed_out, output_tail,
                    log_file, error, run_id, kind, name)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """, values + [run, record.kind.rawValue, record.name])
        }
    }

    public func fingerprintTaken(run: Int64, control: FingerprintOutput) async throws(HistoryError) {
        try await recordFingerprint(run: run, column: "fingerprint_control", key: "control", control)
    }

    public func fingerprintTaken(run: Int64, before: FingerprintOutput) async throws(HistoryError) {
        try await recordFingerprint(run: run, column: "fingerprint_before", key: "before", before)
    }

    private func recordFingerprint(run: Int64, column: String, key: String, _ output: FingerprintOutput) async throws(HistoryError) {
        try await perform { connection throws(PostgresFailure) in
            try connection.transaction { () throws(PostgresFailure) in
                let stored = try connection.query("SELECT fingerprints_json FROM rehearse.run WHERE id = $1 FOR UPDATE", [run])
                    .first?.string("fingerprints_json")
                var facts = Self.decodeFingerprintFacts(stored)
                facts[key] = FingerprintFacts(output)
                try connection.query("UPDATE rehearse.run SET \(column) = $1, fingerprints_json = $2 WHERE id = $3",
                                     [output.text, Self.encodeFingerprintFacts(facts), run])
            }
        }
    }

    public func rollbackTriggered(run: Int64, _ trigger: RollbackTrigger) async throws(HistoryError) {
        try await perform { connection throws(PostgresFailure) in
            try connection.query("UPDATE rehearse.run SET trigger = $1, trigger_code = $2, trigger_offset_ns = $3 WHERE id = $4",
                                 [trigger.description, trigger.reason.code, trigger.offset.nanoseconds, run])
        }
    }

    /// Only a run still running here: one another harness marked abandoned (and perhaps
    /// recovered) meanwhile is not this one's to finish, and its verdict is not recorded.
    public func finishRun(_ run: Run) async throws(HistoryError) {
        let columns = try Self.finishedColumns(run, path: location)
        let values: [(any PostgresValue)?] = columns.map { column in
            switch column.value {
            case .text(let text): text
            case .integer(let number): number
            }
        }
        let assignments = columns.enumerated().map { $0.element.assignment("$\($0.offset + 1)") }.joined(separator: ", ")
        let uid = run.uid ?? ""
        try await performHolding { connection, holdings throws(PostgresFailure) in
            // Over here, whatever the server answers.
            defer { Self.releaseRunLock(connection, uid, &holdings) }
            let finished = try connection.query(
                "UPDATE rehearse.run SET \(assignments) WHERE id = $\(columns.count + 1) AND status = 'running' RETURNING id", values + [run.id]
            ).first != nil
            if !finished {
                throw PostgresFailure.taken("run \(run.id) is no longer running in the history (another harness marked it abandoned): its verdict is not recorded")
            }
        }
    }

    public func recordLogsFolder(run: Int64, _ path: String) async throws(HistoryError) {
        try await perform { connection throws(PostgresFailure) in
            try connection.query("UPDATE rehearse.run SET logs_folder = $1 WHERE id = $2", [path, run])
        }
    }

    public func reopenRun(_ run: Int64, expected: RunStatus, by provenance: RunProvenance) async throws(HistoryError) -> Bool {
        let identity = ProcessIdentity.current
        let start = identity.pid == provenance.pid ? identity.start : ""
        return try await performHolding { connection, holdings throws(PostgresFailure) -> Bool in
            // Taken by another harness, alive: no longer this one's to take.
            guard let uid = try connection.query("SELECT uid FROM rehearse.run WHERE id = $1", [run]).first?.string("uid"),
                  try Self.takeRunLock(connection, uid, &holdings)
            else { return false }
            var reopened = false
            defer { if !reopened { Self.releaseRunLock(connection, uid, &holdings) } }
            reopened = try connection.query("""
                UPDATE rehearse.run SET status = 'running', host = $1, pid = $2, pid_start = $3, heartbeat_ns = \(Self.serverNow)
                WHERE id = $4 AND status = $5
                """, [provenance.host, provenance.pid, start, run, expected.rawValue]).affected == 1
            return reopened
        }
    }

    public func releaseRun(_ run: Int64, status: RunStatus, host: String, pid: Int32) async throws(HistoryError) {
        try await performHolding { connection, holdings throws(PostgresFailure) in
            let uid = try connection.query("""
                UPDATE rehearse.run SET status = $1, host = $2, pid = $3, pid_start = '' WHERE id = $4 RETURNING uid
                """, [status.rawValue, host, pid, run]).first?.string("uid")
            if let uid { Self.releaseRunLock(connection, uid, &holdings) }
        }
    }

    public func recordRecovery(run: Int64, stillApplied: [String]) async throws(HistoryError) {
        try await perform { connection throws(PostgresFailure) in
            try connection.query("UPDATE rehearse.run SET left_applied = $1 WHERE id = $2", [stillApplied.joined(separator: "\n"), run])
        }
    }

    /// A running run is abandoned when no session holds its liveness lock (its harness's
    /// connection ended), and its harness is known gone: a process of this host that no longer
    /// exists, or on another host, one not heard from for ``abandonAfter`` (a harness whose
    /// session was cut takes a new one within seconds, and beats meanwhile). Each is checked
    /// again, its lock taken, as it is marked: a harness that came back meanwhile keeps its run.
    @discardableResult
    public func markAbandoned() async throws(HistoryError) -> [AbandonedRun] {
        let here = ProcessInfo.processInfo.hostName
        let silence = abandonAfter.nanoseconds
        let dead = try await performHolding { connection, holdings throws(PostgresFailure) -> [RunRow] in
            let running = try connection.query(
                "SELECT *, \(Self.serverNow) - heartbeat_ns AS silent_ns FROM rehearse.run WHERE status = 'running' ORDER BY id").rows
            var gone: [(row: RunRow, key: Int64)] = []
            for found in running {
                let row = try RunRow(postgres: found)
                // This process's own (its session could take the lock again: it is its own).
                guard let uid = row.uid, !holdings.runs.contains(uid) else { continue }
                if row.host == here {
                    if ProcessIdentity(host: row.host, pid: row.pid, start: row.pidStart).isAlive { continue }
                } else if let silent = found.int64("silent_ns"), silent < silence {
                    continue
                }
                gone.append((row, PostgresSchema.lockKey(.run, uid)))
            }
            guard !gone.isEmpty else { return [] }
            // A user who may only read (a dashboard, a gate in CI) leaves them for a writer to mark.
            guard try connection.query("SELECT has_table_privilege('rehearse.run', 'UPDATE') AS may").first?.bool("may") == true else { return [] }
            return try connection.transaction { () throws(PostgresFailure) -> [RunRow] in
                var marked: [RunRow] = []
                for (row, key) in gone {
                    // Held by a session now: alive after all.
                    guard try connection.query("SELECT pg_try_advisory_xact_lock($1::bigint) AS free", [key]).first?.bool("free") == true,
                          try connection.query("UPDATE rehearse.run SET status = $1 WHERE id = $2 AND status = 'running' RETURNING id",
                                               [RunStatus.abandoned.rawValue, row.id ?? 0]).first != nil
                    else { continue }
                    try connection.query("UPDATE rehearse.activity SET status = $1 WHERE run_id = $2 AND status = 'running'",
                                         [ActivityStatus.inFlight.rawValue, row.id ?? 0])
                    marked.append(row)
                }
                return marked
            }
        }
        try await recordWhatIsStillApplied(dead.compactMap(\.id))
        return dead.map(Self.abandoned)
    }
}

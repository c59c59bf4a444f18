import Foundation
import Synchronization

/// What a process holds in a shared history, and how it keeps holding it: a session advisory
/// lock per run it is running and per target it holds, and a heartbeat on its running runs every
/// second. The locks go with the session, which a network or a server restart can end while the
/// harness lives: a harness that finds its session gone takes a new one and the same locks again,
/// or stops (fail closed). The heartbeat is what keeps others off meanwhile: a run whose lock is
/// free but whose heartbeat is recent is still alive, and its target still held.
extension PostgresHistory {
    /// The server's clock in nanoseconds: every heartbeat and its age by one clock, whatever the hosts' clocks say.
    static let serverNow = "(extract(epoch from clock_timestamp()) * 1000000000)::bigint"

    /// Beats for the runs this process runs (or just answers): an answer on the session that
    /// holds the locks means they are still held (libpq never connects again on its own). A lost
    /// session is replaced, with its locks, or this fails.
    public func confirmSession() async throws(HistoryError) {
        let runs = heldRuns.withLock { Array($0) }
        do throws(PostgresFailure) {
            try await connection.perform { connection throws(PostgresFailure) in try Self.beat(connection, runs) }
            return
        } catch {
            try await reconnect(after: error)
        }
    }

    private static func beat(_ connection: PostgresConnection, _ runs: [String]) throws(PostgresFailure) {
        if runs.isEmpty {
            try connection.query("SELECT 1")
        } else {
            try connection.query("UPDATE rehearse.run SET heartbeat_ns = \(serverNow) WHERE uid = ANY($1::text[])", [postgresArray(runs)])
        }
    }

    /// A new session holding what the lost one held, in place of it; or the reason it cannot be.
    private func reconnect(after loss: PostgresFailure) async throws(HistoryError) {
        func lost(_ why: String) -> HistoryError {
            HistoryError(.unreachable, path: location,
                         message: "lost its connection (\(loss.message)), and \(why): the locks of this run and its target went with it",
                         remedy: "check the server and the network; another run may now have the target")
        }
        let fresh: PostgresConnection
        do throws(PostgresFailure) {
            fresh = try await PostgresConnection.open(url)
        } catch {
            throw lost("cannot connect again (\(error.message))")
        }
        let runs = heldRuns.withLock { Array($0) }
        let targets = heldTargets.withLock { Array($0) }
        let retaken: Bool
        do throws(PostgresFailure) {
            retaken = try await fresh.perform { connection throws(PostgresFailure) -> Bool in
                for key in runs.map({ PostgresSchema.lockKey(.run, $0) }) + targets {
                    guard try connection.query("SELECT pg_try_advisory_lock($1::bigint) AS taken", [key]).first?.bool("taken") == true
                    else { return false }
                }
                try Self.beat(connection, runs)
                return true
            }
        } catch {
            fresh.close()
            throw lost("cannot take its locks again (\(error.message))")
        }
        guard retaken else {
            fresh.close()
            throw lost("another session holds one of its locks now")
        }
        let old = session.withLock { session -> PostgresConnection in
            defer { session = fresh }
            return session
        }
        old.close()
    }

    /// An advisory lock of the history's session, held until the run ends or the process does.
    public func lockTarget(_ target: String, copy: Int, holder: TargetHolder, wait: Duration) async throws(TargetLock.Failure) -> any TargetLease {
        try await PostgresTargetLock.acquire(target: target, copy: copy, in: self, holder: holder, wait: wait)
    }

    /// Holds run `uid`'s liveness lock until ``releaseRunLock(_:)`` or the process's end; false
    /// when another session holds it (another harness runs that run).
    func holdRunLock(_ uid: String) async throws(HistoryError) -> Bool {
        if holdsRun(uid) { return true }
        let taken = try await perform { connection throws(PostgresFailure) in
            try connection.query("SELECT pg_try_advisory_lock($1::bigint) AS taken", [PostgresSchema.lockKey(.run, uid)]).first?.bool("taken") == true
        }
        if taken { _ = heldRuns.withLock { $0.insert(uid) } }
        return taken
    }

    /// Lets go of run `uid`'s liveness lock (the run is over).
    func releaseRunLock(_ uid: String) async {
        guard heldRuns.withLock({ $0.remove(uid) }) != nil else { return }
        _ = try? await connection.perform { connection throws(PostgresFailure) in
            try connection.query("SELECT pg_advisory_unlock($1::bigint)", [PostgresSchema.lockKey(.run, uid)])
        }
    }

    /// Whether this process runs run `uid`.
    func holdsRun(_ uid: String) -> Bool {
        heldRuns.withLock { $0.contains(uid) }
    }
}

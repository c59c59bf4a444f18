import Dispatch
import Foundation

/// What a process holds in a shared history: the session advisory locks of the runs it is
/// running and of the targets it holds. They go with the session, which a network or a server
/// restart can end while the harness lives.
struct PostgresHoldings: Sendable {
    var runs: Set<String> = []
    var targets: Set<Int64> = []

    var lockKeys: [Int64] { runs.map { PostgresSchema.lockKey(.run, $0) } + targets }
}

/// A PostgreSQL history's one connection and what it holds, driven from one serial queue: every
/// statement, every change to what is held, and every reconnection runs there, one at a time
/// (so two reconnections never race, and what is held always matches the session's locks). No
/// thread of Swift's cooperative pool waits on the network; no call is cancelled with its task.
///
/// A session found lost (its connection closed: the server went, the network dropped, or it did
/// not answer in time) is replaced before the next statement: a new connection, the old server
/// process ended if the server still has it, and every lock taken again. When a lock cannot be
/// taken again within a few seconds, another session has it: the statement fails as
/// ``PostgresFailure/taken``.
final class PostgresSession: @unchecked Sendable {
    let url: PostgresURL
    private let queue = DispatchQueue(label: "rehearse.postgresql")
    // On the queue only:
    private var connection: PostgresConnection?
    /// The server process of the session given up, and when it started (a PID alone may be
    /// another session's after a restart).
    private var lostBackend: (pid: Int32, started: String)?
    /// Locks that another session took while this one was lost: the process cannot go on.
    private var lostKeys: Set<Int64> = []
    private var holdings = PostgresHoldings()

    private init(url: PostgresURL, connection: PostgresConnection) {
        self.url = url
        self.connection = connection
    }

    deinit { connection?.close() }

    static func open(_ url: PostgresURL) async throws(PostgresFailure) -> PostgresSession {
        let result: Result<PostgresSession, PostgresFailure> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(PostgresFailure) {
                    continuation.resume(returning: .success(PostgresSession(url: url, connection: try PostgresConnection.connect(url))))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` on the queue with the connection (replaced first when it was lost) and what
    /// the session holds, which `body` changes together with the locks it takes or lets go.
    @discardableResult
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, inout PostgresHoldings) throws(PostgresFailure) -> T
    ) async throws(PostgresFailure) -> T {
        let result: Result<T, PostgresFailure> = await withCheckedContinuation { continuation in
            queue.async { [self] in
                do throws(PostgresFailure) {
                    let connection = try current()
                    do throws(PostgresFailure) {
                        continuation.resume(returning: .success(try body(connection, &holdings)))
                    } catch {
                        if connection.isClosed { markLost(connection) }
                        throw error
                    }
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` on the queue later, without waiting and without reconnecting (what a lost
    /// session held is gone with it): letting go of a lock, naming a holder.
    func performLater(_ body: @escaping @Sendable (PostgresConnection?, inout PostgresHoldings) -> Void) {
        queue.async { [self] in
            let usable = connection.flatMap { $0.isClosed ? nil : $0 }
            body(usable, &holdings)
            if let connection, connection.isClosed { markLost(connection) }
        }
    }

    /// The connection, or a new one holding what the lost one held; all of it within
    /// ``reconnectWindow`` (a run's lease is 15 s).
    private func current() throws(PostgresFailure) -> PostgresConnection {
        if !lostKeys.isEmpty { throw PostgresFailure.taken(Self.takenMessage) }
        if let connection, connection.isStillConnected() { return connection }
        if let connection { markLost(connection) }
        // A server restarting answers again within seconds: a statement not sent yet waits for
        // it (nothing it would record is lost, nothing starts meanwhile), for a while.
        let deadline = ContinuousClock.now + Self.reconnectWindow
        func remaining() -> Duration { max(.milliseconds(500), deadline - ContinuousClock.now) }
        var fresh: PostgresConnection
        while true {
            do throws(PostgresFailure) {
                fresh = try PostgresConnection.connect(url, connectTimeout: max(1, Int(remaining().components.seconds) / 2))
                break
            } catch {
                guard ContinuousClock.now + .seconds(2) < deadline else { throw error }
                usleep(250_000)
            }
        }
        if let (pid, started) = lostBackend {
            // The server may not have noticed yet that the old session is gone: it holds the locks.
            // (That very process: a PID alone may be another session's after a restart.)
            _ = try? fresh.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE pid = $1 AND backend_start::text = $2 AND pid <> pg_backend_pid()
                """, [pid, started], timeout: .seconds(2))
            lostBackend = nil
        }
        var pending = Set(holdings.lockKeys)
        while true {
            for key in pending {
                if try fresh.tryAdvisoryLock(key, timeout: .seconds(2)) { pending.remove(key) }
            }
            if pending.isEmpty { break }
            guard ContinuousClock.now < deadline else {
                // Kept, with what it could take again: what another holds now is lost to this
                // process, and every statement says so from now on (the run stops).
                lostKeys = pending
                holdings.runs = holdings.runs.filter { !pending.contains(PostgresSchema.lockKey(.run, $0)) }
                holdings.targets.subtract(pending)
                connection = fresh
                throw PostgresFailure.taken(Self.takenMessage)
            }
            usleep(100_000)
        }
        connection = fresh
        return fresh
    }

    private static let takenMessage = "its connection was lost, and another session holds one of its locks now"

    /// How long a statement waits for a server that cannot be reached to answer again, and for
    /// the locks to be taken again: within a run's 15 s lease.
    static let reconnectWindow: Duration = .seconds(10)

    private func markLost(_ lost: PostgresConnection) {
        lost.close()
        if connection === lost {
            lostBackend = (lost.backendPID, lost.backendStart)
            connection = nil
        }
    }
}

extension PostgresFailure {
    /// What this process held in the history is another's now: the run cannot go on.
    static func taken(_ why: String) -> PostgresFailure {
        PostgresFailure(message: why, sqlstate: takenState)
    }

    static let takenState = "RH001"

    /// States of rehearse's own (class RH), for what it finds itself rather than the server.
    /// Reading commands find no history in the database.
    static let missingState = "RH002"
    /// The schema has migrations this build does not know (a newer rehearse's).
    static let newerState = "RH003"
    /// The schema `rehearse` holds another application's tables.
    static let foreignState = "RH004"
    /// A history file that an import reads or an export writes failed.
    static let fileState = "RH005"
}

import Foundation
import RehearseCore
import Synchronization

/// A target's copy held in a PostgreSQL history: a session advisory lock of the history's
/// session, held for the whole run (and taken again with a new session, ``PostgresSession``).
/// The server lets go of it when that session ends, however the harness ends. Who holds it is in
/// `rehearse.target_holder`, for the one that waits; and while the run it names still beats, the
/// target is not free even when its lock is (its harness is taking a new session).
final class PostgresTargetLock: TargetLease {
    let target: String
    let copy: Int
    private let key: Int64
    /// Nil once released.
    private let session: Mutex<PostgresSession?>

    private init(target: String, copy: Int, key: Int64, session: PostgresSession) {
        self.target = target
        self.copy = copy
        self.key = key
        self.session = Mutex(session)
    }

    deinit { release() }

    static func key(target: String, copy: Int) -> Int64 {
        PostgresSchema.lockKey(.target, "\(target)\u{0}\(copy)")
    }

    static func acquire(
        target: String, copy: Int, in history: PostgresHistory, holder: TargetHolder, wait: Duration
    ) async throws(TargetLock.Failure) -> PostgresTargetLock {
        let key = key(target: target, copy: copy)
        let holderText = (try? JSONEncoder().encode(holder)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let started = ContinuousClock.now
        let (here, silence) = (ProcessInfo.processInfo.hostName, history.abandonAfter.nanoseconds)
        while true {
            var taken = false
            do throws(PostgresFailure) {
                taken = try await history.session.perform { connection, holdings throws(PostgresFailure) -> Bool in
                    // This process's already: its session would be given the lock again.
                    guard !holdings.targets.contains(key),
                          try connection.tryAdvisoryLock(key)
                    else { return false }
                    do throws(PostgresFailure) {
                        if try holderStillRuns(connection, target: target, copy: copy, here: here, silence: silence, holdings: holdings) {
                            try connection.advisoryUnlock(key)
                            return false
                        }
                        // Named with the lock, in the same turn: a run that beats keeps its copy from here on.
                        try connection.query(Self.upsertHolder, [target, copy, holderText, holder.run])
                    } catch {
                        // Not held after all: let go of it on the server too (gone with a lost session anyway).
                        if !connection.isClosed { try? connection.advisoryUnlock(key) }
                        throw error
                    }
                    holdings.targets.insert(key)
                    return true
                }
            } catch {
                // A session lost while waiting: the next try is on a new one.
                guard error.sqlstate == nil, ContinuousClock.now - started < wait else {
                    throw .unusable(path: history.location, why: error.message)
                }
            }
            if taken { break }
            let waited = ContinuousClock.now - started
            var stop = waited >= wait
            if !stop {
                do { try await Task.sleep(for: min(.milliseconds(50), wait - waited)) } catch { stop = true }
            }
            if stop {
                let current = try? await history.session.perform { connection, _ throws(PostgresFailure) in
                    try connection.query("SELECT holder FROM rehearse.target_holder WHERE target = $1 AND copy = $2", [target, copy])
                        .first?.string("holder")
                }
                let named = current.flatMap { $0 }.flatMap { try? JSONDecoder().decode(TargetHolder.self, from: Data($0.utf8)) }
                throw .busy(target: target, copy: copy, holder: named, waited: waited)
            }
        }
        return PostgresTargetLock(target: target, copy: copy, key: key, session: history.session)
    }

    private static let upsertHolder = """
        INSERT INTO rehearse.target_holder (target, copy, holder, run_id) VALUES ($1, $2, $3, $4)
        ON CONFLICT (target, copy) DO UPDATE SET holder = excluded.holder, run_id = excluded.run_id
        """

    /// Whether the run the holder row names is still running and alive: not this process's, and
    /// a live process of this host, or heard from within `silence` on another.
    private static func holderStillRuns(
        _ connection: PostgresConnection, target: String, copy: Int, here: String, silence: Int64, holdings: PostgresHoldings
    ) throws(PostgresFailure) -> Bool {
        let row = try connection.query("""
            SELECT r.uid, r.host, r.pid, r.pid_start, \(PostgresHistory.serverNow) - r.heartbeat_ns AS silent_ns
            FROM rehearse.target_holder h JOIN rehearse.run r ON r.id = h.run_id
            WHERE h.target = $1 AND h.copy = $2 AND r.status = 'running'
            """, [target, copy]).first
        guard let row, let uid = row.string("uid"), !holdings.runs.contains(uid) else { return false }
        if let host = row.string("host"), host == here, let pid = row.int32("pid") {
            return ProcessIdentity(host: host, pid: pid, start: row.string("pid_start") ?? "").isAlive
        }
        return (row.int64("silent_ns") ?? .max) < silence
    }

    /// Names the holder (sent in order with the session's other work, not waited for).
    func record(_ holder: TargetHolder) {
        guard let data = try? JSONEncoder().encode(holder) else { return }
        let (text, target, copy, key) = (String(decoding: data, as: UTF8.self), target, copy, key)
        session.withLock { session in
            session?.performLater { connection, holdings in
                guard holdings.targets.contains(key) else { return }
                _ = try? connection?.query(Self.upsertHolder, [target, copy, text, holder.run])
            }
        }
    }

    /// Lets the next one in (in order with the session's other work, not waited for).
    func release() {
        let key = key
        session.withLock { session in
            session?.performLater { connection, holdings in
                guard holdings.targets.remove(key) != nil else { return }
                try? connection?.advisoryUnlock(key)
            }
            session = nil
        }
    }
}

import Foundation
import Synchronization

/// A target's copy held in a PostgreSQL history: a session advisory lock of the history's
/// connection, held for the whole run. The server lets go of it when that connection ends,
/// however the harness ends (SIGKILL, a lost host: once its TCP connection is seen closed). Who
/// holds it is in `rehearse.target_holder`, for the one that waits.
final class PostgresTargetLock: TargetLease {
    let target: String
    let copy: Int
    private let key: Int64
    /// Nil once released.
    private let history: Mutex<PostgresHistory?>

    private init(target: String, copy: Int, key: Int64, history: PostgresHistory) {
        self.target = target
        self.copy = copy
        self.key = key
        self.history = Mutex(history)
    }

    deinit { release() }

    static func key(target: String, copy: Int) -> Int64 {
        PostgresSchema.lockKey(.target, "\(target)\u{0}\(copy)")
    }

    static func acquire(
        target: String, copy: Int, in history: PostgresHistory, holder: TargetHolder, wait: Duration
    ) async throws(TargetLock.Failure) -> PostgresTargetLock {
        let key = key(target: target, copy: copy)
        let started = ContinuousClock.now
        while true {
            // Not this process's already (its session would be given the lock again).
            var taken = false
            if history.heldTargets.withLock({ $0.insert(key).inserted }) {
                do throws(PostgresFailure) {
                    taken = try await history.connection.perform { connection throws(PostgresFailure) in
                        guard try connection.query("SELECT pg_try_advisory_lock($1::bigint) AS taken", [key]).first?.bool("taken") == true
                        else { return false }
                        // Free, but the run its last holder named still beats: that harness lost
                        // its session a moment ago and is taking it again. Not free.
                        if try holderStillRuns(connection, target: target, copy: copy, in: history) {
                            try connection.query("SELECT pg_advisory_unlock($1::bigint)", [key])
                            return false
                        }
                        return true
                    }
                } catch {
                    _ = history.heldTargets.withLock { $0.remove(key) }
                    throw .unusable(path: history.location, why: error.message)
                }
                if !taken { _ = history.heldTargets.withLock { $0.remove(key) } }
            }
            if taken { break }
            let waited = ContinuousClock.now - started
            var stop = waited >= wait
            if !stop {
                do { try await Task.sleep(for: min(.milliseconds(50), wait - waited)) } catch { stop = true }
            }
            if stop {
                let current = try? await history.connection.perform { connection throws(PostgresFailure) in
                    try connection.query("SELECT holder FROM rehearse.target_holder WHERE target = $1 AND copy = $2", [target, copy])
                        .first?.string("holder")
                }
                let named = current.flatMap { $0 }.flatMap { try? JSONDecoder().decode(TargetHolder.self, from: Data($0.utf8)) }
                throw .busy(target: target, copy: copy, holder: named, waited: waited)
            }
        }
        let lock = PostgresTargetLock(target: target, copy: copy, key: key, history: history)
        lock.record(holder)
        return lock
    }

    /// Whether the run the holder row names is running, not this process's, and was heard from
    /// within the history's ``PostgresHistory/abandonAfter``.
    private static func holderStillRuns(
        _ connection: PostgresConnection, target: String, copy: Int, in history: PostgresHistory
    ) throws(PostgresFailure) -> Bool {
        let row = try connection.query("""
            SELECT r.uid, \(PostgresHistory.serverNow) - r.heartbeat_ns AS silent_ns FROM rehearse.target_holder h
            JOIN rehearse.run r ON r.id = h.run_id WHERE h.target = $1 AND h.copy = $2 AND r.status = 'running'
            """, [target, copy]).first
        guard let row, let uid = row.string("uid"), !history.holdsRun(uid) else { return false }
        return (row.int64("silent_ns") ?? .max) < history.abandonAfter.components.seconds * 1_000_000_000
    }

    func record(_ holder: TargetHolder) {
        guard let data = try? JSONEncoder().encode(holder) else { return }
        let text = String(decoding: data, as: UTF8.self)
        history.withLock { history in
            _ = try? history?.connection.performNow { connection throws(PostgresFailure) in
                try connection.query("""
                    INSERT INTO rehearse.target_holder (target, copy, holder, run_id) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (target, copy) DO UPDATE SET holder = excluded.holder, run_id = excluded.run_id
                    """, [target, copy, text, holder.run])
            }
        }
    }

    func release() {
        history.withLock { history in
            guard let held = history else { return }
            _ = try? held.connection.performNow { connection throws(PostgresFailure) in
                try connection.query("SELECT pg_advisory_unlock($1::bigint)", [key])
            }
            _ = held.heldTargets.withLock { $0.remove(key) }
            history = nil
        }
    }
}

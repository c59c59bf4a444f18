import Foundation
import Synchronization

/// A target's copy held in a PostgreSQL history: a session advisory lock on a connection of its
/// own, held for the whole run. The server lets go of it when that connection ends, however the
/// harness ends (SIGKILL, a lost host: when its TCP connection is seen closed). Who holds it is
/// in `rehearse.target_holder`, for the one that waits.
final class PostgresTargetLock: TargetLease {
    let target: String
    let copy: Int
    private let connection: Mutex<PostgresConnection?>

    private init(target: String, copy: Int, connection: PostgresConnection) {
        self.target = target
        self.copy = copy
        self.connection = Mutex(connection)
    }

    deinit { release() }

    static func acquire(
        target: String, copy: Int, in history: PostgresHistory, holder: TargetHolder, wait: Duration
    ) async throws(TargetLock.Failure) -> PostgresTargetLock {
        let connection: PostgresConnection
        do throws(PostgresFailure) {
            connection = try await PostgresConnection.open(history.url)
        } catch {
            throw .unusable(path: history.location, why: error.message)
        }
        let key = PostgresSchema.lockKey("\(target)\u{0}\(copy)")
        let started = ContinuousClock.now
        while true {
            let taken: Bool
            do throws(PostgresFailure) {
                taken = try await connection.perform { connection throws(PostgresFailure) in
                    try connection.query("SELECT pg_try_advisory_lock($1, $2) AS taken", [PostgresSchema.LockClass.target.rawValue, key])
                        .first?.bool("taken") == true
                }
            } catch {
                connection.close()
                throw .unusable(path: history.location, why: error.message)
            }
            if taken { break }
            let waited = ContinuousClock.now - started
            var stop = waited >= wait
            if !stop {
                do { try await Task.sleep(for: min(.milliseconds(50), wait - waited)) } catch { stop = true }
            }
            if stop {
                let current = try? await connection.perform { connection throws(PostgresFailure) in
                    try connection.query("SELECT holder FROM rehearse.target_holder WHERE target = $1 AND copy = $2", [target, copy])
                        .first?.string("holder")
                }
                connection.close()
                let named = current.flatMap { $0 }.flatMap { try? JSONDecoder().decode(TargetHolder.self, from: Data($0.utf8)) }
                throw .busy(target: target, copy: copy, holder: named, waited: waited)
            }
        }
        let lock = PostgresTargetLock(target: target, copy: copy, connection: connection)
        lock.record(holder)
        return lock
    }

    func record(_ holder: TargetHolder) {
        guard let data = try? JSONEncoder().encode(holder) else { return }
        let text = String(decoding: data, as: UTF8.self)
        connection.withLock { connection in
            _ = try? connection?.performNow { connection throws(PostgresFailure) in
                try connection.query("""
                    INSERT INTO rehearse.target_holder (target, copy, holder) VALUES ($1, $2, $3)
                    ON CONFLICT (target, copy) DO UPDATE SET holder = excluded.holder
                    """, [target, copy, text])
            }
        }
    }

    func release() {
        connection.withLock { connection in
            connection?.close()
            connection = nil
        }
    }
}

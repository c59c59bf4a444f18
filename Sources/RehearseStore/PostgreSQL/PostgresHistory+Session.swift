import Foundation

/// What a process holds in a shared history, and how it keeps holding it: a session advisory
/// lock per run it is running and per target it holds (``PostgresSession`` takes them again
/// when the session is replaced), and a heartbeat on its running runs every second. The
/// heartbeat is what keeps others off while a session is being replaced: a run whose lock is
/// free but whose heartbeat is recent is alive, and its target still held.
extension PostgresHistory {
    /// The server's clock in nanoseconds: every heartbeat and its age by one clock, whatever the hosts' clocks say.
    static let serverNow = "(extract(epoch from clock_timestamp()) * 1000000000)::bigint"

    /// A run stops what it does to the copy, its rollback included, once it has not confirmed
    /// its session for this long: well before another host may count it gone (``abandonAfter``).
    public var lease: Duration? { abandonAfter / 2 }

    /// Beats for the runs this process runs; a lost session is replaced first. Fails as
    /// ``HistoryError/Code/lost`` when another harness has taken what this one held (a run
    /// marked abandoned, a lock taken), else as the server's failure.
    public func confirmSession() async throws(HistoryError) {
        for attempt in 1...2 {
            do throws(HistoryError) {
                try await performHolding { connection, holdings throws(PostgresFailure) in try Self.beat(connection, holdings.runs) }
                return
            } catch {
                // Lost during the beat: once more, on a new session.
                if attempt == 1, error.code == .unreachable { continue }
                throw error
            }
        }
    }

    /// Writes the runs' heartbeat; a run no longer running in the history (marked abandoned by
    /// another harness) is lost to this one.
    static func beat(_ connection: PostgresConnection, _ runs: Set<String>) throws(PostgresFailure) {
        guard !runs.isEmpty else {
            try connection.query("SELECT 1")
            return
        }
        let beating = try connection.query(
            "UPDATE rehearse.run SET heartbeat_ns = \(serverNow) WHERE uid = ANY($1::text[]) AND status = 'running' RETURNING uid",
            [postgresArray(runs.sorted())])
        let still = Set(beating.rows.compactMap { $0.string("uid") })
        if let gone = runs.subtracting(still).first {
            throw PostgresFailure.taken("run \(gone) is no longer running in the history: another harness took it over")
        }
    }

    /// An advisory lock of the history's session, held until the run ends or the process does.
    public func lockTarget(_ target: String, copy: Int, holder: TargetHolder, wait: Duration) async throws(TargetLock.Failure) -> any TargetLease {
        try await PostgresTargetLock.acquire(target: target, copy: copy, in: self, holder: holder, wait: wait)
    }

    /// Takes run `uid`'s liveness lock on `connection` (false: another session holds it).
    static func takeRunLock(_ connection: PostgresConnection, _ uid: String, _ holdings: inout PostgresHoldings) throws(PostgresFailure) -> Bool {
        if holdings.runs.contains(uid) { return true }
        guard try connection.tryAdvisoryLock(PostgresSchema.lockKey(.run, uid)) else { return false }
        holdings.runs.insert(uid)
        return true
    }

    /// Lets go of run `uid`'s liveness lock (the run is over, here): no longer held, whatever
    /// the server answers (a session that is gone let go of it already).
    static func releaseRunLock(_ connection: PostgresConnection, _ uid: String, _ holdings: inout PostgresHoldings) {
        guard holdings.runs.remove(uid) != nil, !connection.isClosed else { return }
        try? connection.advisoryUnlock(PostgresSchema.lockKey(.run, uid))
    }
}

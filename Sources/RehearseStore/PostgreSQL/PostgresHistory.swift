import Foundation
import RehearseCore

/// The rehearsal history in a PostgreSQL database that a team's machines share
/// (`--history postgresql://USER@HOST:PORT/DB`): the same journal, queries and refusals as
/// ``SQLiteHistory``, for many writers on many hosts.
///
/// One connection per process (a server's connections are few: 100 by default): the journal,
/// the queries, and the session advisory locks of the runs it is running and of the targets it
/// holds (`PostgresHistory+Session.swift`): how another harness, on any host, tells a live run
/// from a dead one, and waits for a held target.
public final class PostgresHistory: HistoryStore {
    public let url: PostgresURL
    public let localFolder: String
    public var location: String { url.description }
    /// A run whose harness has not been heard from (its heartbeat) for this long, and whose
    /// lock no session holds, is abandoned, on whatever host it ran.
    public let abandonAfter: Duration
    /// The connection, and the locks it holds.
    let session: PostgresSession

    /// Connects, and brings the schema up to date (refusing one from a newer `rehearse`); a
    /// database without one gets one, unless `create` is false (``HistoryError/Code/missing``).
    /// `localFolder` is where runs keep their logs on this machine.
    public init(url: PostgresURL, localFolder: String, create: Bool = true, abandonAfter: Duration = .seconds(30)) async throws(HistoryError) {
        self.url = url
        self.localFolder = localFolder
        self.abandonAfter = abandonAfter
        let location = url.description
        do throws(PostgresFailure) {
            session = try await PostgresSession.open(url)
        } catch {
            throw HistoryError(.unreachable, path: location, message: "cannot connect: \(error.message)",
                               remedy: "check the server, the URL and the credentials (PGPASSWORD or ~/.pgpass), or use a history file with --history PATH")
        }
        try await migrate(create: create)
    }

    /// Refuses a schema from a newer `rehearse`, or a `rehearse` schema that another application
    /// made, and applies the migrations this database lacks (one process at a time: a
    /// transaction-scoped advisory lock).
    private func migrate(create: Bool) async throws(HistoryError) {
        let known = PostgresSchema.migrations.map(\.id)
        let location = self.location
        try await perform { connection throws(PostgresFailure) in
            // Most opens find the schema complete: a read, no lock.
            if let applied = try? Set(connection.query("SELECT id FROM rehearse.migrations").rows.compactMap { $0.string("id") }),
               applied == Set(known) {
                return
            }
            if !create {
                let exists = try connection.query("SELECT to_regclass('rehearse.migrations') IS NOT NULL AS present").first?.bool("present") == true
                if !exists { throw PostgresFailure(message: "", sqlstate: PostgresFailure.missingState) }
            }
            // A migration waits behind every open reader of the tables it alters, and every
            // statement after it waits behind the migration: it gives up in 2 s, and tries again
            // a few times, so that running rehearsals' heartbeats never stall long.
            for attempt in 1...5 {
                do throws(PostgresFailure) {
                    try Self.migrate(connection, known: known)
                    return
                } catch {
                    guard error.sqlstate == "55P03", attempt < 5 else { throw error }
                    usleep(500_000)
                }
            }
        } explaining: { error in
            if error.sqlstate == "55P03" {
                return HistoryError(.other, path: location, message: "its schema could not be brought up to date: other sessions hold its tables (\(error.message))",
                                    remedy: "run again when they are done; the running rehearsals were not held up")
            }
            if error.sqlstate == PostgresFailure.missingState {
                return HistoryError(.missing, path: location, message: "there is no history in this database yet (nothing was created)",
                                    remedy: "run a rehearsal with this --history first")
            }
            if error.sqlstate == PostgresFailure.newerState {
                return HistoryError(.newerVersion, path: location,
                                    message: "it was written by a newer rehearse (schema \(error.message))",
                                    remedy: "upgrade rehearse, or use another history with --history; its contents were left as they were")
            }
            if error.sqlstate == PostgresFailure.foreignState {
                return HistoryError(.notADatabase, path: location,
                                    message: "its schema 'rehearse' is another application's, not a rehearse history (its tables: \(error.message))",
                                    remedy: "use another database for the history (nothing was changed in this one)")
            }
            return nil
        }
    }

    /// The migrations this database lacks, in one transaction, one process at a time (a lock
    /// the migration waits for more than 2 s for is a 55P03 error).
    private static func migrate(_ connection: PostgresConnection, known: [String]) throws(PostgresFailure) {
        try connection.transaction { () throws(PostgresFailure) in
            try connection.query("SET LOCAL lock_timeout = '2s'")
            try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [PostgresSchema.lockKey(.migration, "schema")])
            let tables = try connection.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [PostgresSchema.name]
            ).rows.compactMap { $0.string("table_name") }
            if !tables.isEmpty, !tables.contains("migrations") {
                throw PostgresFailure(message: tables.sorted().prefix(5).joined(separator: ", "), sqlstate: PostgresFailure.foreignState)
            }
            try connection.execute("""
                CREATE SCHEMA IF NOT EXISTS rehearse;
                CREATE TABLE IF NOT EXISTS rehearse.migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let applied = Set(try connection.query("SELECT id FROM rehearse.migrations").rows.compactMap { $0.string("id") })
            let unknown = applied.subtracting(known)
            if !unknown.isEmpty { throw PostgresFailure(message: unknown.sorted().joined(separator: ", "), sqlstate: PostgresFailure.newerState) }
            for migration in PostgresSchema.migrations where !applied.contains(migration.id) {
                try connection.execute(migration.sql)
                try connection.query("INSERT INTO rehearse.migrations (id) VALUES ($1)", [migration.id])
            }
        }
    }

    /// Runs `body` on the history's connection; a failure becomes a ``HistoryError`` (or what
    /// `explaining` makes of it).
    @discardableResult
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(PostgresFailure) -> T,
        explaining: (PostgresFailure) -> HistoryError? = { _ in nil }
    ) async throws(HistoryError) -> T {
        try await performHolding({ connection, _ throws(PostgresFailure) in try body(connection) }, explaining: explaining)
    }

    /// The same, with what the session holds, for `body` to change with the locks it takes.
    @discardableResult
    func performHolding<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, inout PostgresHoldings) throws(PostgresFailure) -> T,
        explaining: (PostgresFailure) -> HistoryError? = { _ in nil }
    ) async throws(HistoryError) -> T {
        do throws(PostgresFailure) {
            return try await session.perform(body)
        } catch {
            throw explaining(error) ?? explain(error)
        }
    }

    func explain(_ error: PostgresFailure) -> HistoryError {
        if error.sqlstate == PostgresFailure.takenState {
            return HistoryError(.lost, path: location, message: error.message,
                                remedy: "another rehearse holds this run's or its target's lock: this one stops (see 'rehearse history')")
        }
        if error.sqlstate == "42501" {
            return HistoryError(.notWritable, path: location, message: error.message, remedy: "check the user's rights on the database")
        }
        switch error.sqlstate?.prefix(2) {
        case nil:
            return HistoryError(.unreachable, path: location, message: "the server cannot be reached: \(error.message)",
                                remedy: "check the server and the network; what the run had recorded is kept")
        case "42"?, "3F"?:
            return HistoryError(.other, path: location, message: error.message,
                                remedy: "check that the schema 'rehearse' is this history's and the user may use it")
        case "53"?:
            return HistoryError(.notWritable, path: location, message: "the server cannot write: \(error.message)",
                                remedy: "free some space on the server, or use another history")
        case "28"?:
            return HistoryError(.notWritable, path: location, message: error.message, remedy: "check the user's rights on the database")
        default:
            return HistoryError(.other, path: location, message: error.message, remedy: "see PostgreSQL's message above")
        }
    }
}

import Foundation

/// The two kinds of history the shared tests run against: a file, and a database on the tests'
/// PostgreSQL server (where it is installed, and always under `CI=true`).
public enum HistoryBackend: String, Sendable, CaseIterable {
    case sqlite
    case postgres

    /// SQLite always; PostgreSQL where the tests can have a server.
    public static var available: [HistoryBackend] {
        PostgresServer.isAvailable ? [.sqlite, .postgres] : [.sqlite]
    }

    /// A new, empty history of this kind: a file in `folder`, or a database of its own on the
    /// server (its URL carries a password, which the server does not need and must never be shown).
    public func freshLocation(in folder: TemporaryFolder) async throws -> String {
        switch self {
        case .sqlite: folder.path + "/.rehearse/history.sqlite"
        case .postgres: try await PostgresServer.freshDatabase()
        }
    }
}

extension PostgresServer {
    /// The password in every URL the tests give `rehearse`: it must appear in nothing it prints.
    public static let urlPassword = "pw-never-shown-7d1f"

    /// Creates an empty database on the tests' server and returns its URL.
    public static func freshDatabase() async throws -> String {
        let server = try await shared()
        let name = "rehearse_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let result = try await Tool.run("psql", ["-X", "-q", "-h", "127.0.0.1", "-p", String(server.port), "-U", "postgres", "-d", "postgres",
                                                 "-c", "CREATE DATABASE \(name)"])
        guard let result, result.status == 0 else {
            throw Failure.cannotStart("CREATE DATABASE failed: \(result?.output ?? "psql is missing")")
        }
        return "postgresql://postgres:\(urlPassword)@127.0.0.1:\(server.port)/\(name)"
    }

    /// Runs SQL in the database of `url` (psql), returning what it printed (unaligned, tuples only).
    public static func sql(_ statement: String, in url: String) async throws -> String {
        let server = try await shared()
        let database = String(url.split(separator: "/").last ?? "postgres")
        let result = try await Tool.run("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(server.port),
                                                 "-U", "postgres", "-d", database, "-c", statement])
        guard let result, result.status == 0 else { throw Failure.cannotStart("psql failed: \(result?.output ?? "psql is missing")") }
        return result.output
    }
}

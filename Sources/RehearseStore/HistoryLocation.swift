import Foundation
import RehearseCore

/// What `--history` (or `REHEARSE_HISTORY`) names: a history file on this machine, or a
/// PostgreSQL database (`postgresql://…` or `postgres://…`).
public enum HistoryLocation: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case postgres(PostgresURL)
    /// Something like a URL that is not one of PostgreSQL's (`postgresq://…`, `postgresql:/…`):
    /// never taken for a file's path (it may hold a password, which would name files).
    case unreadableURL(String)

    public init(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let url = PostgresURL(trimmed) {
            self = .postgres(url)
        } else if trimmed.contains("://") || trimmed.lowercased().hasPrefix("postgres:") || trimmed.lowercased().hasPrefix("postgresql:")
                    || Self.looksLikeConnectionString(trimmed) {
            self = .unreadableURL(text)
        } else {
            self = .file(text)
        }
    }

    /// libpq's `host=… dbname=… password=…` form: not taken (only URLs are), and never for a
    /// file's name.
    static func looksLikeConnectionString(_ text: String) -> Bool {
        let keywords = ["host", "hostaddr", "port", "dbname", "user", "password", "service", "sslmode", "passfile"]
        return text.split(whereSeparator: \.isWhitespace).contains { word in
            guard let equals = word.firstIndex(of: "=") else { return false }
            return keywords.contains(word[..<equals].lowercased())
        }
    }

    /// A URL (PostgreSQL's, or something like one), not a file's path.
    public var isURL: Bool {
        if case .file = self { return false }
        return true
    }

    /// As people may read it: a PostgreSQL URL without its password.
    public var description: String {
        switch self {
        case .file(let path): path
        case .postgres(let url): url.description
        case .unreadableURL(let text):
            text.contains("://") || !Self.looksLikeConnectionString(text.trimmingCharacters(in: .whitespaces))
                ? (text.prefix { $0 != ":" }).trimmingCharacters(in: .whitespaces) + "://… (not shown)"
                : "a connection string (not shown)"
        }
    }

    /// Opens the history, creating a file, or the schema in a database, when missing; unless
    /// `create` is false (a command that only reads), when that is a ``HistoryError/Code/missing``.
    /// `localFolder` is where a PostgreSQL history's runs keep their logs on this machine; a
    /// file's runs keep theirs beside it.
    public func open(localFolder: String, create: Bool = true) async throws(HistoryError) -> any HistoryStore {
        switch self {
        case .file(let path):
            if !create, FileKind.of(path) == .missing {
                throw HistoryError(.missing, path: path, message: "there is no history yet", remedy: "run a rehearsal first")
            }
            return try await SQLiteHistory(path: path)
        case .postgres(let url):
            return try await PostgresHistory(url: url, localFolder: localFolder, create: create)
        case .unreadableURL:
            throw HistoryError(.notADatabase, path: description, message: "is neither a history file nor a PostgreSQL URL",
                               remedy: "write postgresql://USER@HOST:PORT/DB (or postgres://; a password in PGPASSWORD or ~/.pgpass), or a file's path; nothing was created")
        }
    }
}

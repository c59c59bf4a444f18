import RehearseCore

/// What `--history` (or `REHEARSE_HISTORY`) names: a history file on this machine, or a
/// PostgreSQL database (`postgresql://…` or `postgres://…`).
public enum HistoryLocation: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case postgres(PostgresURL)

    public init(_ text: String) {
        self = PostgresURL(text).map(HistoryLocation.postgres) ?? .file(text)
    }

    /// As people may read it: a PostgreSQL URL without its password.
    public var description: String {
        switch self {
        case .file(let path): path
        case .postgres(let url): url.description
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
        }
    }
}

/// Why the history could not be used: what went wrong, where, and what to do about it.
///
/// Like swift-nio's file-system errors, it carries a code (so callers can tell cases apart) and a
/// message written for the operator.
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The file was written by a newer `rehearse` (its schema has migrations this one lacks).
        case newerVersion
        /// The file is not an SQLite database (or the PostgreSQL schema is not a rehearse history).
        case notADatabase
        /// SQLite reports the database as corrupt.
        case corrupt
        /// The file or its folder cannot be created or written.
        case notWritable
        /// There is no history there yet, and it was not to be created (a command that only reads).
        case missing
        /// What this process held in a shared history (a run's or a target's lock) is held by
        /// another process now: the run must stop, its rollback included.
        case lost
        /// A PostgreSQL history's server cannot be reached, or refused the connection.
        case unreachable
        /// Anything else SQLite or PostgreSQL reported.
        case other
    }

    public var code: Code
    public var path: String
    public var message: String
    public var remedy: String

    public init(_ code: Code, path: String, message: String, remedy: String) {
        self.code = code
        self.path = path
        self.message = message
        self.remedy = remedy
    }

    public var description: String {
        "history \(path): \(message)\n  fix: \(remedy)"
    }
}

/// A PostgreSQL history's address as `--history` or `REHEARSE_HISTORY` give it,
/// `postgresql://USER@HOST:PORT/DB` (or `postgres://`), with libpq's URL syntax: what libpq
/// connects with, and what people may be shown, without the password.
///
/// A password is better left out of the URL (libpq reads `PGPASSWORD` and `~/.pgpass`); when one
/// is in it, it is used, and never printed, logged or recorded.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// The URL as given.
    let text: String

    /// Nil when `text` is not a PostgreSQL URL (a history file's path, then).
    public init?(_ text: String) {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://") else { return nil }
        self.text = text
    }

    /// What libpq connects with: the URL, with a connect timeout (libpq's default waits forever
    /// on a host that drops packets) and an application name, unless it sets them.
    var conninfo: String {
        var added: [String] = []
        let query = queryItems.map { $0.key.lowercased() }
        if !query.contains("connect_timeout") { added.append("connect_timeout=10") }
        if !query.contains("application_name") { added.append("application_name=rehearse") }
        guard !added.isEmpty else { return text }
        return text + (text.contains("?") ? "&" : "?") + added.joined(separator: "&")
    }

    /// The URL without its password: in the user part (`user:secret@`) and in the query (`password=`).
    public var description: String {
        let scheme = text.prefix { $0 != ":" } + "://"
        var rest = text.dropFirst(scheme.count)
        let queryStart = rest.firstIndex(of: "?")
        let beforeQuery = rest[..<(queryStart ?? rest.endIndex)]
        // The authority ends at the first '/'; its user part at its last '@'.
        let authorityEnd = beforeQuery.firstIndex(of: "/") ?? beforeQuery.endIndex
        var authority = String(beforeQuery[..<authorityEnd])
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at].prefix { $0 != ":" }
            authority = String(user) + authority[at...]
        }
        var result = String(scheme) + authority + String(beforeQuery[authorityEnd...])
        rest = queryStart.map { rest[$0...].dropFirst() } ?? ""
        let kept = rest.split(separator: "&", omittingEmptySubsequences: false)
            .filter { !$0.lowercased().hasPrefix("password=") }
        if !kept.isEmpty, queryStart != nil { result += "?" + kept.joined(separator: "&") }
        return String(result)
    }

    private var queryItems: [(key: String, value: String)] {
        guard let start = text.firstIndex(of: "?") else { return [] }
        return text[text.index(after: start)...].split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1)
            return (String(parts.first ?? ""), parts.count > 1 ? String(parts[1]) : "")
        }
    }
}

import Foundation
import RehearseCore

/// A PostgreSQL history's address as `--history` or `REHEARSE_HISTORY` give it,
/// `postgresql://USER@HOST:PORT/DB` (or `postgres://`), read by libpq itself
/// (`PQconninfoParse`): what it connects with, and what people may be shown, without the
/// password.
///
/// A password is better left out of the URL (libpq reads `PGPASSWORD` and `~/.pgpass`); when one
/// is in it, it is used, and never printed, logged or recorded: what is shown is built from the
/// user, host, port and database alone, and every message libpq writes is scrubbed of it.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// The URL as given.
    let text: String

    /// Nil when `text` is not a PostgreSQL URL (a history file's path, then).
    public init?(_ text: String) {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://") else { return nil }
        // libpq reads the scheme in lower case only.
        let scheme = text.prefix { $0 != ":" }
        self.text = scheme.lowercased() + text.dropFirst(scheme.count)
    }

    private var scheme: String { String(text.prefix { $0 != ":" }) }

    /// What libpq reads in the URL, percent-decoded; or why it cannot (scrubbed).
    func options() -> Result<[(keyword: String, value: String)], PostgresFailure> {
        switch LibPQ.shared {
        case .failure(let failure):
            return .failure(PostgresFailure(message: "\(failure); a PostgreSQL history needs libpq (Debian: apt-get install libpq5)"))
        case .success(let library):
            return library.parse(text).mapError { PostgresFailure(message: "libpq cannot read the URL: " + scrub(PostgresConnection.tidy($0.description))) }
        }
    }

    /// The keywords and values libpq connects with: the URL's, a connect timeout (libpq's
    /// default waits forever on a host that drops packets), TCP keepalives (a dead server is
    /// noticed within a minute), a TCP user timeout (data the server does not acknowledge for
    /// 15 s ends the connection: a send never blocks forever), and an application name, unless
    /// the URL sets them.
    func connectionParameters() -> Result<[(keyword: String, value: String)], PostgresFailure> {
        options().map { given in
            var parameters = given
            let set = Set(given.map(\.keyword))
            for (keyword, value) in [("connect_timeout", "10"), ("application_name", "rehearse"), ("keepalives", "1"),
                                     ("keepalives_idle", "15"), ("keepalives_interval", "5"), ("keepalives_count", "3"),
                                     ("tcp_user_timeout", "15000")]
            where !set.contains(keyword) {
                parameters.append((keyword, value))
            }
            return parameters
        }
    }

    /// `postgresql://USER@HOST:PORT/DB` from what libpq reads: never the password, nor any other
    /// option. A URL libpq cannot read is not shown.
    public var description: String {
        guard case .success(let options) = options() else { return scheme + "://(a URL libpq cannot read, not shown)" }
        func value(_ keyword: String) -> String? { options.first { $0.keyword == keyword }?.value }
        let host = value("host") ?? value("hostaddr") ?? ""
        // A Unix socket's folder is a host only in the query.
        let inAuthority = host.hasPrefix("/") ? "" : host.contains(":") ? "[" + host + "]" : host
        var shown = scheme + "://" + (value("user").map { $0 + "@" } ?? "") + inAuthority + (value("port").map { ":" + $0 } ?? "")
            + "/" + (value("dbname") ?? "")
        if host.hasPrefix("/") { shown += "?host=" + host }
        return PrintableText.of(scrub(shown))
    }

    /// `message` without the password, as the URL spells it, as libpq decoded it, or in pieces
    /// (a password with a '/' or a '?' that libpq read as part of the host or the database).
    func scrub(_ message: String) -> String {
        var secrets: [String] = []
        if case .success(let library) = LibPQ.shared, case .success(let options) = library.parse(text) {
            secrets += options.filter { $0.keyword == "password" || $0.keyword == "sslpassword" }.map(\.value)
        }
        // As written: after the user's ':' and before the last '@'.
        let rest = text.dropFirst(scheme.count + 3)
        if let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
            let written = String(rest[rest.index(after: colon)..<at])
            secrets.append(written)
            secrets += written.split(whereSeparator: { "/?#&=@:".contains($0) }).map(String.init).filter { $0.count >= 2 }
            if let decoded = written.removingPercentEncoding { secrets.append(decoded) }
        }
        // Query parameters that carry one.
        for item in text.split(whereSeparator: { $0 == "?" || $0 == "&" }) {
            let parts = item.split(separator: "=", maxSplits: 1)
            let key = String(parts.first ?? "").removingPercentEncoding?.lowercased() ?? ""
            if parts.count == 2, key == "password" || key == "sslpassword" {
                secrets.append(String(parts[1]))
                if let decoded = String(parts[1]).removingPercentEncoding { secrets.append(decoded) }
            }
        }
        var scrubbed = message
        for secret in Set(secrets) where secret.count >= 2 {
            scrubbed = scrubbed.replacingOccurrences(of: secret, with: "***")
        }
        return scrubbed
    }
}

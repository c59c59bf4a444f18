import Dispatch
import Foundation
import GRDB

/// What PostgreSQL (or libpq) answered instead of a result.
struct PostgresFailure: Error, CustomStringConvertible {
    var message: String
    /// The SQLSTATE of a server error (`42P01`: no such table), nil for a connection's failure.
    var sqlstate: String?

    var description: String { message }
}

/// A value sent as a query's parameter, in PostgreSQL's text form.
protocol PostgresValue: Sendable {
    var postgresText: String { get }
    /// The same value for SQLite (an export writes PostgreSQL's rows into a file).
    var databaseValue: DatabaseValue { get }
}

extension String: PostgresValue {
    /// PostgreSQL's text cannot hold a NUL character (SQLite's can): it is kept as U+FFFD.
    var postgresText: String { contains("\u{0}") ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self }
}

extension Int: PostgresValue { var postgresText: String { String(self) } }
extension Int32: PostgresValue { var postgresText: String { String(self) } }
extension Int64: PostgresValue { var postgresText: String { String(self) } }
extension Bool: PostgresValue { var postgresText: String { self ? "t" : "f" } }

/// The rows a query returned, copied out of libpq's result.
struct PostgresRows: Sendable {
    var columns: [String: Int] = [:]
    /// Each column's type (its OID: 16 boolean, 20 bigint, 21 smallint, 23 integer, 25 text).
    var types: [UInt32] = []
    var rows: [PostgresRow] = []
    /// Rows an INSERT, UPDATE or DELETE changed.
    var affected = 0

    var first: PostgresRow? { rows.first }
}

struct PostgresRow: Sendable {
    let columns: [String: Int]
    let types: [UInt32]
    let values: [String?]

    func string(_ name: String) -> String? {
        columns[name].flatMap { values[$0] }
    }

    func int64(_ name: String) -> Int64? { string(name).flatMap { Int64($0) } }
    func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    func int32(_ name: String) -> Int32? { string(name).flatMap { Int32($0) } }
    func bool(_ name: String) -> Bool? { string(name).map { $0 == "t" || $0 == "true" } }
}

/// One connection to the server. Synchronous, and used from one thread at a time: a
/// ``PostgresSession`` drives it from its own queue, so that no thread of Swift's cooperative
/// pool waits on the network.
final class PostgresConnection: @unchecked Sendable {
    private let library: LibPQ
    private let handle: LibPQ.Connection
    private var closed = false
    /// The server process serving this session (`pg_backend_pid()`): what a new session ends
    /// when this one was given up but the server may still hold it, and its locks.
    private(set) var backendPID: Int32 = 0
    private(set) var backendStart = ""

    private init(library: LibPQ, handle: LibPQ.Connection) {
        self.library = library
        self.handle = handle
    }

    deinit { close() }

    /// Connects (blocking), with notices kept off the terminal. `connectTimeout` replaces the
    /// URL's default (a new session for a running harness must come quickly or not at all).
    static func connect(_ url: PostgresURL, connectTimeout: Int? = nil) throws(PostgresFailure) -> PostgresConnection {
        let library: LibPQ
        switch LibPQ.shared {
        case .success(let loaded): library = loaded
        case .failure(let failure):
            throw PostgresFailure(message: "\(failure); a PostgreSQL history needs libpq (Debian: apt-get install libpq5)")
        }
        var parameters = try url.connectionParameters().get()
        if let connectTimeout { parameters = parameters.filter { $0.keyword != "connect_timeout" } + [("connect_timeout", String(connectTimeout))] }
        // Keywords and values as libpq read them from the URL (not expanded again).
        let keywords = parameters.map { strdup($0.keyword) } + [nil]
        let values = parameters.map { strdup($0.value) } + [nil]
        defer { for pointer in keywords + values { free(pointer) } }
        let handle = keywords.map { $0.map { UnsafePointer($0) } }.withUnsafeBufferPointer { keywords in
            values.map { $0.map { UnsafePointer($0) } }.withUnsafeBufferPointer { values in
                library.connectdbParams(keywords.baseAddress!, values.baseAddress!, 0)
            }
        }
        guard let handle else { throw PostgresFailure(message: "libpq cannot allocate a connection") }
        guard library.status(handle) == LibPQ.connectionOK else {
            let message = library.errorMessage(handle).map { String(cString: $0) } ?? "cannot connect"
            library.finish(handle)
            throw PostgresFailure(message: url.scrub(Self.tidy(message)))
        }
        let connection = PostgresConnection(library: library, handle: handle)
        // The server notices a harness that is gone (its locks then go) within a minute. A
        // statement waiting for a lock (behind a migration, a table locked by hand) gives up on
        // the server first, as an error, before the answer deadline closes the session and its locks.
        try connection.execute("""
            SET client_min_messages = error; SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC';
            SET tcp_keepalives_idle = 15; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3;
            SET lock_timeout = '5s'
            """)
        let me = try connection.query("SELECT pid, backend_start::text AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()").first
        connection.backendPID = me?.int32("pid") ?? 0
        connection.backendStart = me?.string("started") ?? ""
        return connection
    }

    /// How long a statement may take before the connection is given up as lost: a server that
    /// stops answering (a frozen host, a network that drops packets, a table lock held for
    /// minutes) must not hold a run, its rollback or a Ctrl-C forever.
    static let answerTimeout: Duration = .seconds(10)

    /// A statement of an import or an export: thousands of rows at once.
    static let bulkTimeout: Duration = .seconds(300)

    /// Whether the connection was closed (given up, or lost).
    var isClosed: Bool { closed }

    /// Whether the session is still there, as far as can be told without a round trip: a
    /// session the server ended (a restart, `pg_terminate_backend`, an idle timeout) said so at
    /// once, and that is read here, before a statement is sent into it. Closed when it is gone.
    func isStillConnected() -> Bool {
        guard !closed else { return false }
        var descriptor = pollfd(fd: library.socket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 0)
        guard ready > 0 else { return ready == 0 || errno == EINTR }
        // Something came unasked. This session asks for nothing to be sent to it (no LISTEN, no
        // notices): it is the server ending it (a FATAL message, then the end of the stream),
        // read or not yet. Given up, to be replaced before the statement is sent into it.
        close()
        return false
    }

    /// One statement with `$1`-style parameters (nil: NULL).
    @discardableResult
    func query(_ sql: String, _ parameters: [(any PostgresValue)?] = [], timeout: Duration = answerTimeout) throws(PostgresFailure) -> PostgresRows {
        let texts: [UnsafeMutablePointer<CChar>?] = parameters.map { value in value.flatMap { strdup($0.postgresText) } }
        defer { for text in texts { free(text) } }
        let pointers: [UnsafePointer<CChar>?] = texts.map { $0.map { UnsafePointer($0) } }
        return try answer(timeout) {
            sql.withCString { sql in
                pointers.withUnsafeBufferPointer { values in
                    library.sendQueryParams(handle, sql, Int32(texts.count), nil, values.baseAddress, nil, nil, 0)
                }
            }
        }
    }

    /// Takes session advisory lock `key` if no other session holds it (this one may, again).
    func tryAdvisoryLock(_ key: Int64, timeout: Duration = answerTimeout) throws(PostgresFailure) -> Bool {
        try query("SELECT pg_try_advisory_lock($1::bigint) AS taken", [key], timeout: timeout).first?.bool("taken") == true
    }

    /// Lets go of session advisory lock `key`.
    func advisoryUnlock(_ key: Int64) throws(PostgresFailure) {
        try query("SELECT pg_advisory_unlock($1::bigint)", [key])
    }

    /// Several statements without parameters (a schema migration).
    func execute(_ sql: String, timeout: Duration = answerTimeout) throws(PostgresFailure) {
        _ = try answer(timeout) { sql.withCString { library.sendQuery(handle, $0) } }
    }

    /// Sends with `send`, then waits for every result, at most `timeout`: past it, the
    /// connection is closed (the server then lets go of its locks) and the statement has failed.
    /// The first error wins; else the last result's rows. (Sending is bounded by the kernel:
    /// `tcp_user_timeout`.)
    private func answer(_ timeout: Duration, _ send: () -> Int32) throws(PostgresFailure) -> PostgresRows {
        guard !closed else { throw PostgresFailure(message: "the connection is closed") }
        guard send() == 1 else { throw lost() }
        let deadline = ContinuousClock.now + timeout
        var rows = PostgresRows()
        var failure: PostgresFailure?
        while true {
            while library.isBusy(handle) == 1 {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else {
                    close()
                    throw PostgresFailure(message: "the server did not answer within \(timeout.components.seconds)s; the connection was closed")
                }
                var descriptor = pollfd(fd: library.socket(handle), events: Int16(POLLIN), revents: 0)
                let milliseconds = Int32(min(1000, max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)))
                if poll(&descriptor, 1, milliseconds) < 0, errno != EINTR { throw lost() }
                guard library.consumeInput(handle) == 1 else { throw lost() }
            }
            guard let result = library.getResult(handle) else { break }
            do throws(PostgresFailure) {
                rows = try self.rows(of: result)
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure {
            // A result that says the connection broke (no SQLSTATE, the connection no longer OK).
            if library.status(handle) != LibPQ.connectionOK { close() }
            throw failure
        }
        return rows
    }

    /// The connection's own error (it broke), the connection closed.
    private func lost() -> PostgresFailure {
        let message = library.errorMessage(handle).map { String(cString: $0) } ?? "the connection broke"
        close()
        return PostgresFailure(message: Self.tidy(message))
    }

    /// `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(PostgresFailure) -> T) throws(PostgresFailure) -> T {
        try execute("BEGIN")
        do throws(PostgresFailure) {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Ends the session: the server lets go of its advisory locks.
    func close() {
        guard !closed else { return }
        closed = true
        library.finish(handle)
    }

    private func rows(of result: LibPQ.Result?) throws(PostgresFailure) -> PostgresRows {
        guard let result else {
            let message = library.errorMessage(handle).map { String(cString: $0) } ?? "no result"
            throw PostgresFailure(message: Self.tidy(message))
        }
        defer { library.clear(result) }
        let status = library.resultStatus(result)
        guard status == LibPQ.commandOK || status == LibPQ.tuplesOK else {
            let message = library.resultErrorMessage(result).map { String(cString: $0) } ?? "query failed"
            let state = library.resultErrorField(result, LibPQ.sqlstateField).map { String(cString: $0) }
            throw PostgresFailure(message: Self.tidy(message), sqlstate: state)
        }
        var rows = PostgresRows()
        let fields = library.nfields(result)
        for field in 0..<fields {
            rows.columns[library.fname(result, field).map { String(cString: $0) } ?? ""] = Int(field)
            rows.types.append(library.ftype(result, field))
        }
        let count = library.ntuples(result)
        rows.rows.reserveCapacity(Int(count))
        for row in 0..<count {
            var values: [String?] = []
            values.reserveCapacity(Int(fields))
            for field in 0..<fields {
                if library.getisnull(result, row, field) != 0 {
                    values.append(nil)
                } else if let value = library.getvalue(result, row, field) {
                    let length = Int(library.getlength(result, row, field))
                    values.append(String(decoding: UnsafeRawBufferPointer(start: value, count: length), as: UTF8.self))
                } else {
                    values.append(nil)
                }
            }
            rows.rows.append(PostgresRow(columns: rows.columns, types: rows.types, values: values))
        }
        rows.affected = library.cmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return rows
    }

    /// libpq's messages end with a newline and may span lines: one line, for a verdict or an error.
    static func tidy(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

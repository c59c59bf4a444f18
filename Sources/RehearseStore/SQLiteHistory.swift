public import Foundation
import GRDB
import RehearseCore

/// The rehearsal history in a file on this machine: an SQLite database (WAL, a busy timeout, so
/// that several `rehearse` processes can write one file at once), written as a journal while runs
/// happen. Its logs and target locks are in the folder beside it.
///
/// Opening refuses, with a ``HistoryError`` and without changing the file, anything that is not
/// this tool's history or that this build cannot safely write: not a database, corrupt, from a
/// newer version, read-only.
public final class SQLiteHistory: HistoryStore {
    public let path: String
    public var location: String { path }
    public var localFolder: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }
    let pool: DatabasePool

    /// SQLite's `application_id` of a rehearse history ("RHRS"): what tells it from another
    /// application's database.
    public static let applicationID: Int32 = 0x5248_5253

    /// How long a writer waits for another process's write to finish.
    public static let busyTimeout: TimeInterval = 10

    /// Opens the history at `path`, creating it (and its folder, owner-only) when missing, and
    /// bringing its schema up to date.
    public init(path: String) async throws(HistoryError) {
        self.path = path
        let manager = FileManager.default
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        // Before anything is created: SQLite would wait forever on a FIFO, and write a journal
        // beside a device.
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] {
            switch FileKind.of(file) {
            case .missing, .regular: continue
            case .folder:
                throw HistoryError(.notADatabase, path: path, message: file == path ? "is a folder, not a history file" : "\(file) is a folder",
                                   remedy: "point --history at a file (it is created when missing); nothing was changed")
            case .special(let kind):
                throw HistoryError(.notADatabase, path: path, message: file == path ? "is \(kind), not a history file" : "\(file) is \(kind)",
                                   remedy: "point --history at a regular file (it is created when missing); nothing was changed")
            }
        }
        let existed = manager.fileExists(atPath: path)
        do {
            if !manager.fileExists(atPath: folder) {
                try manager.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
        } catch {
            throw HistoryError(.notWritable, path: path, message: "cannot create its folder \(folder): \(error.localizedDescription)",
                               remedy: "choose another place with --history PATH or REHEARSE_HISTORY")
        }
        if existed {
            try Self.checkHeader(path)
            try Self.checkOwnership(path)
        }

        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try await Self.openPool(path: path, configuration: configuration)
            if !existed {
                for file in [path, path + "-wal", path + "-shm"] where manager.fileExists(atPath: file) {
                    try? manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
                }
            }
            try await Self.migrate(pool, path: path, with: HistorySchema.migrator)
            try await pool.write { db in
                if try Int32.fetchOne(db, sql: "PRAGMA application_id") != Self.applicationID {
                    try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)")
                }
            }
        } catch let error as HistoryError {
            throw error
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    /// An OS file lock (`flock`) on `locks/TARGET.copy-N.lock` beside the database.
    public func lockTarget(_ target: String, copy: Int, holder: TargetHolder, wait: Duration) async throws(TargetLock.Failure) -> any TargetLease {
        try await TargetLock.acquire(target: target, copy: copy, besideHistory: path, holder: holder, wait: wait)
    }

    /// An flock is held by the process's descriptor: nothing to lose while the process lives.
    public func confirmSession() async throws(HistoryError) {}

    public var lease: Duration? { nil }

    /// Opens the pool. While another process turns a new file into a WAL database, SQLite answers
    /// "locked" at once, whatever the busy timeout: that is waited out (a few tries, 20 ms apart).
    private static func openPool(path: String, configuration: Configuration) async throws -> DatabasePool {
        var attempt = 0
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                attempt += 1
                if attempt >= 10 { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Refuses a schema from a newer `rehearse`, and brings an older one up to date.
    ///
    /// Two processes opening a new history at once may both decide to apply a migration; the second
    /// then fails (its table already exists), or finds the schema half made. Each migration
    /// commits together with its record, so after a failure a fresh look tells whether another
    /// process has completed the schema meanwhile, which is as good as doing it. Every look is a
    /// write transaction: it waits for another process's migration to commit, and sees all of it.
    /// (On the writer, like the migrations: a reader connection opened before a migration alters
    /// a table would keep expanding `SELECT *` to the old columns.)
    private static func migrate(_ pool: DatabasePool, path: String, with migrator: DatabaseMigrator) async throws {
        let known = Set(migrator.migrations)
        var attempt = 0
        while true {
            do {
                let applied = try await pool.write { db in try migrator.appliedIdentifiers(db) }
                let unknown = applied.subtracting(known)
                if !unknown.isEmpty {
                    throw HistoryError(.newerVersion, path: path,
                                       message: "it was written by a newer rehearse (schema \(unknown.sorted().joined(separator: ", ")))",
                                       remedy: "upgrade rehearse, or use another history with --history PATH; its contents were left as they were")
                }
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    migrator.asyncMigrate(pool) { result in continuation.resume(with: result.map { _ in }) }
                }
                return
            } catch let error as HistoryError {
                throw error
            } catch {
                attempt += 1
                if (try? await pool.write({ db in try migrator.hasCompletedMigrations(db) })) == true { return }
                if attempt >= 10 { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// An existing database is rehearse's (its `application_id`, or the schema an older rehearse
    /// made before it set one) or empty; another application's is refused, looked at read-only
    /// and left exactly as it was (opening it for writing would already turn it into WAL).
    private static func checkOwnership(_ path: String) throws(HistoryError) {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else { return }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        let (id, tables, migrations): (Int32, Set<String>, Int)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            (id, tables, migrations) = try queue.read { db in
                let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
                return (try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0, tables,
                        tables.contains("grdb_migrations") ? try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") ?? 0 : 0)
            }
            try queue.close()
        } catch {
            throw explain(error, path: path)
        }
        if id == applicationID { return }
        let olderRehearse = id == 0 && tables.isSuperset(of: ["grdb_migrations", "run", "activity"])
        // Another rehearse making this history right now: its migrations' table is made (and
        // committed) before the first migration, which makes the tables at once, commits.
        let beingMade = id == 0 && tables == ["grdb_migrations"] && migrations == 0
        if tables.isEmpty || olderRehearse || beingMade { return }
        throw HistoryError(.notADatabase, path: path,
                           message: "is another application's SQLite database, not a rehearse history"
                               + (id != 0 ? " (application_id \(id))" : " (its tables: \(tables.sorted().prefix(5).joined(separator: ", ")))"),
                           remedy: "point --history at a new file (nothing was changed in this one)")
    }

    /// An SQLite file starts with "SQLite format 3\0"; anything else is refused before SQLite touches it.
    private static func checkHeader(_ path: String) throws(HistoryError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw HistoryError(.notWritable, path: path, message: "cannot be read", remedy: "check its permissions")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if !header.isEmpty, header != Data("SQLite format 3\u{0}".utf8) {
            throw HistoryError(.notADatabase, path: path, message: "is not an SQLite database",
                               remedy: "move it aside (nothing was changed), or point --history elsewhere")
        }
    }

    static func explain(_ error: any Error, path: String) -> HistoryError {
        guard let error = error as? DatabaseError else {
            return HistoryError(.other, path: path, message: "\(error)", remedy: "see the message above")
        }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return HistoryError(.notADatabase, path: path, message: "is not an SQLite database",
                                remedy: "move it aside (nothing was changed), or point --history elsewhere")
        case .SQLITE_CORRUPT:
            return HistoryError(.corrupt, path: path, message: "is corrupt (\(error.message ?? "SQLITE_CORRUPT"))",
                                remedy: "keep it for inspection (`sqlite3 FILE .recover` may save its runs) and start a new history with --history PATH")
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return HistoryError(.notWritable, path: path, message: "cannot be written (\(error.message ?? "\(error.resultCode)"))",
                                remedy: "check the permissions of the file and its folder, or use --history PATH")
        case .SQLITE_FULL, .SQLITE_IOERR:
            return HistoryError(.notWritable, path: path, message: "cannot be written: \(error.message ?? "disk full or I/O error")",
                                remedy: "free some space, or use --history PATH")
        default:
            return HistoryError(.other, path: path, message: error.message ?? "\(error)", remedy: "see the SQLite message above")
        }
    }

    /// Writes on GRDB's writer queue: the calling task suspends, no thread of the cooperative pool
    /// waits for SQLite's lock. A write is never cancelled with the calling task: a journal entry
    /// that a signal could cancel would let a command start unrecorded.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(HistoryError) -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            pool.asyncWrite(body) { _, result in continuation.resume(returning: result) }
        }
        do {
            return try result.get()
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(HistoryError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.explain(error, path: path)
        }
    }
}

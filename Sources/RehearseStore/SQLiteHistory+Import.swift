public import Foundation
import GRDB
import RehearseCore

/// What merging another history brought.
public struct ImportSummary: Sendable, Hashable {
    /// Runs added (with their activities, plan texts and fingerprints), numbered anew here.
    public var added = 0
    /// Runs this history already has (the same globally unique id): importing twice adds nothing.
    public var alreadyThere = 0
    /// Runs still running there (or whose harness died unnoticed): left out, they are not over.
    public var unfinished = 0

    public init(added: Int = 0, alreadyThere: Int = 0, unfinished: Int = 0) {
        self.added = added
        self.alreadyThere = alreadyThere
        self.unfinished = unfinished
    }
}

extension SQLiteHistory {
    /// Merges the finished runs of another history file (a CI job's artifact, another machine's
    /// export) into this one, by each run's globally unique id: a run this history has is not
    /// added again. The source is never written: a copy of it is brought to this schema (a file
    /// from a newer rehearse, or not a rehearse history, is refused as `--history` would be).
    ///
    /// - Parameter since: only runs that started then or later.
    public func importRuns(from source: String, since: Date? = nil) async throws(HistoryError) -> ImportSummary {
        let (copy, scratch) = try await Self.migratedCopy(of: source)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try await merge(from: copy, since: since)
    }

    /// A copy of the history file `source` in a scratch folder of its own (which the caller
    /// removes), brought to this build's schema: the source itself is never written. A file
    /// from a newer rehearse, or not a rehearse history, is refused as `--history` would be.
    static func migratedCopy(of source: String) async throws(HistoryError) -> (copy: String, scratch: String) {
        switch FileKind.of(source) {
        case .regular: break
        case .missing: throw HistoryError(.notADatabase, path: source, message: "does not exist", remedy: "name a history file to import")
        case .folder: throw HistoryError(.notADatabase, path: source, message: "is a folder, not a history file", remedy: "name a history file to import")
        case .special(let kind): throw HistoryError(.notADatabase, path: source, message: "is \(kind), not a history file", remedy: "name a history file to import")
        }
        let scratch = try Self.scratchFolder(for: source)
        let copy = scratch + "/history.sqlite"
        do {
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: source + suffix) {
                try FileManager.default.copyItem(atPath: source + suffix, toPath: copy + suffix)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw HistoryError(.notWritable, path: source, message: "cannot be copied to read it: \(error.localizedDescription)",
                               remedy: "check that it is readable, and that the temporary folder has room")
        }
        do throws(HistoryError) {
            // Brought to this build's schema (refused when newer), then closed.
            _ = try await SQLiteHistory(path: copy)
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw HistoryError(error.code, path: source, message: error.message, remedy: error.remedy)
        }
        return (copy, scratch)
    }

    /// Writes the finished runs since `since` (all when nil) to a new history file at `path`, for
    /// another machine to import. `path` must not exist.
    public func exportRuns(to path: String, since: Date? = nil) async throws(HistoryError) -> ImportSummary {
        guard FileKind.of(path) == .missing else {
            throw HistoryError(.notWritable, path: path, message: "already exists", remedy: "name a new file to export to (nothing was changed)")
        }
        let scratch = try Self.scratchFolder(for: path)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // A consistent snapshot, whatever other processes write meanwhile.
        let snapshot = scratch + "/snapshot.sqlite"
        do {
            try await pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [snapshot]) }
        } catch {
            throw Self.explain(error, path: self.path)
        }
        let destination = try await SQLiteHistory(path: path)
        return try await destination.merge(from: snapshot, since: since)
    }

    /// A folder of its own for a copy, owner-only.
    static func scratchFolder(for path: String) throws(HistoryError) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-import-\(UUID().uuidString)").path
        guard mkdir(folder, 0o700) == 0 else {
            throw HistoryError(.notWritable, path: path, message: "cannot make a temporary folder: \(String(cString: strerror(errno)))",
                               remedy: "check the temporary folder (TMPDIR)")
        }
        return folder
    }

    /// Adds the runs of `source` (a file at this schema, not in use) that this history lacks, in
    /// one transaction: all of them, or none.
    private func merge(from source: String, since: Date?) async throws(HistoryError) -> ImportSummary {
        let sinceNs = Self.nanoseconds(since: since)
        do {
            return try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [source])
                defer { try? db.execute(sql: "DETACH DATABASE source") }
                var summary = ImportSummary()
                try db.inTransaction {
                    summary = try Self.copyRuns(db, since: sinceNs)
                    return .commit
                }
                return summary
            }
        } catch let error as HistoryError {
            throw error
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    private static func copyRuns(_ db: Database, since: Int64?) throws -> ImportSummary {
        func columns(_ table: String, _ schema: String) throws -> [String] {
            try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid", arguments: [table, schema])
        }
        // The columns both have (the same, at one schema), but the ids, which are this history's.
        let mainRun = Set(try columns("run", "main"))
        let runs = try columns("run", "source").filter { $0 != "id" && mainRun.contains($0) }
        let runColumns = runs.map { "\"\($0)\"" }.joined(separator: ", ")
        // The run's own columns, but its uid (derived when it had none).
        let runSelect = runs.map { $0 == "uid" ? "m.uid" : "s.\"\($0)\"" }.joined(separator: ", ")
        let mainActivity = Set(try columns("activity", "main"))
        let activities = try columns("activity", "source").filter { $0 != "id" && $0 != "run_id" && mainActivity.contains($0) }
        let activityColumns = activities.map { "\"\($0)\"" }.joined(separator: ", ")
        let activitySelect = activities.map { "a.\"\($0)\"" }.joined(separator: ", ")

        // One statement per table, not per run: which source runs there are, under which id, and
        // whether they come (in the range, finished, not here yet).
        let sinceNs = since ?? .min
        try db.execute(sql: """
            DROP TABLE IF EXISTS temp.import_map;
            CREATE TEMP TABLE import_map (
                source_id INTEGER PRIMARY KEY, uid TEXT NOT NULL, derived INTEGER NOT NULL, evidence_run INTEGER,
                eligible INTEGER NOT NULL, running INTEGER NOT NULL, here INTEGER NOT NULL, new_id INTEGER);
            INSERT INTO temp.import_map (source_id, uid, derived, evidence_run, eligible, running, here)
                SELECT id, coalesce(uid, \(HistorySchema.derivedUID)), uid IS NULL, evidence_run,
                       started_at_ns >= \(sinceNs), status = 'running', 0
                FROM source.run;
            CREATE INDEX temp.import_map_by_uid ON import_map(uid);
            UPDATE temp.import_map SET here = 1, new_id = (SELECT id FROM main.run WHERE main.run.uid = import_map.uid)
                WHERE uid IN (SELECT uid FROM main.run WHERE uid IS NOT NULL);
            """)
        var summary = ImportSummary()
        summary.alreadyThere = try Int.fetchOne(db, sql: "SELECT count(*) FROM temp.import_map WHERE eligible AND here") ?? 0
        summary.unfinished = try Int.fetchOne(db, sql: "SELECT count(*) FROM temp.import_map WHERE eligible AND NOT here AND running") ?? 0
        try db.execute(sql: """
            INSERT INTO main.run (\(runColumns))
                SELECT \(runSelect) FROM source.run s JOIN temp.import_map m ON m.source_id = s.id
                WHERE m.eligible AND NOT m.here AND NOT m.running ORDER BY s.id
            """)
        summary.added = db.changesCount
        try db.execute(sql: """
            UPDATE temp.import_map SET new_id = (SELECT id FROM main.run WHERE main.run.uid = import_map.uid)
                WHERE eligible AND NOT here AND NOT running;
            INSERT INTO main.activity (run_id, \(activityColumns))
                SELECT m.new_id, \(activitySelect)
                FROM source.activity a JOIN temp.import_map m ON m.source_id = a.run_id
                WHERE m.eligible AND NOT m.here AND NOT m.running ORDER BY a.id;
            -- A live run names the rehearsal its GO rested on by number: that run's number here.
            UPDATE main.run SET evidence_run = (
                SELECT cited.new_id FROM temp.import_map citing JOIN temp.import_map cited ON cited.source_id = citing.evidence_run
                WHERE citing.new_id = main.run.id)
                WHERE id IN (SELECT new_id FROM temp.import_map WHERE eligible AND NOT here AND NOT running AND evidence_run IS NOT NULL);
            DROP TABLE temp.import_map;
            """)
        return summary
    }
}

public import Foundation
import GRDB
import RehearseCore

/// Merging with history files: a CI job's file imported into the shared history, the shared
/// history's runs exported to a file. By each run's globally unique id, as between two files;
/// all of it in one transaction on each side, or nothing.
extension PostgresHistory {
    /// Runs read and written this many at a time (one statement each way per batch).
    static let batchSize = 500

    public func importRuns(from source: String, since: Date? = nil) async throws(HistoryError) -> ImportSummary {
        let (copy, scratch) = try await SQLiteHistory.migratedCopy(of: source)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let file = try await SQLiteHistory(path: copy)
        let sinceNs = Self.nanoseconds(since: since) ?? .min
        return try await perform { connection throws(PostgresFailure) -> ImportSummary in
            try connection.transaction { () throws(PostgresFailure) -> ImportSummary in
                // One import at a time (as a file's write transaction does): two CI jobs merging
                // the same shard would both find its runs missing, and the second would fail on
                // the first one's rows. The second waits, then finds them there.
                try connection.query("SET LOCAL lock_timeout = '\(PostgresConnection.bulkTimeout.components.seconds)s'")
                try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [PostgresSchema.lockKey(.imports, "runs")],
                                     timeout: PostgresConnection.bulkTimeout)
                try connection.query("SET LOCAL lock_timeout = '5s'")   // (the session's, for the rest)
                var summary = ImportSummary()
                var numbers: [Int64: Int64] = [:]   // the source's run ids -> this history's
                var citing: [(run: Int64, cited: Int64)] = []
                var after: Int64 = 0
                while true {
                    let batch: [RecordedRun]
                    do {
                        batch = try file.pool.read { db in try RecordedRun.runs(db, after: after, limit: Self.batchSize) }
                    } catch {
                        throw PostgresFailure(message: "\(source) cannot be read: \(error)", sqlstate: PostgresFailure.fileState)
                    }
                    guard let last = batch.last?.run.id else { break }
                    after = last
                    // Every run of the batch this history has (a live run may cite one older than `since`).
                    let here = try Self.existing(connection, uids: batch.compactMap(\.run.uid))
                    var adding: [RecordedRun] = []
                    for record in batch {
                        let id = here[record.run.uid ?? ""]
                        if let id { numbers[record.run.id ?? 0] = id }
                        guard record.run.startedAtNs >= sinceNs else { continue }
                        if id != nil {
                            summary.alreadyThere += 1
                        } else if record.run.status == RunStatus.running.rawValue {
                            summary.unfinished += 1
                        } else {
                            adding.append(record)
                        }
                    }
                    // The activities of the runs that come, only.
                    if !adding.isEmpty {
                        do {
                            let activities = try file.pool.read { db in try RecordedRun.activities(db, of: adding.compactMap(\.run.id)) }
                            for index in adding.indices { adding[index].activities = activities[adding[index].run.id ?? 0] ?? [] }
                        } catch {
                            throw PostgresFailure(message: "\(source) cannot be read: \(error)", sqlstate: PostgresFailure.fileState)
                        }
                    }
                    for (record, id) in zip(adding, try Self.insert(connection, adding)) {
                        numbers[record.run.id ?? 0] = id
                        if let cited = record.run.evidenceRun { citing.append((id, cited)) }
                    }
                    summary.added += adding.count
                }
                // A live run names the rehearsal its GO rested on by number: that run's number here.
                for (run, cited) in citing {
                    try connection.query("UPDATE rehearse.run SET evidence_run = $1 WHERE id = $2", [numbers[cited], run])
                }
                return summary
            }
        } explaining: { error in
            error.sqlstate == PostgresFailure.fileState ? HistoryError(.corrupt, path: source, message: error.message, remedy: "check the file (nothing was imported)") : nil
        }
    }

    public func exportRuns(to path: String, since: Date? = nil) async throws(HistoryError) -> ImportSummary {
        guard FileKind.of(path) == .missing else {
            throw HistoryError(.notWritable, path: path, message: "already exists", remedy: "name a new file to export to (nothing was changed)")
        }
        let file = try await SQLiteHistory(path: path)
        do throws(HistoryError) {
            return try await export(into: file, since: Self.nanoseconds(since: since) ?? .min)
        } catch {
            // Not a file that looks like a complete export.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw error
        }
    }

    private func export(into file: SQLiteHistory, since sinceNs: Int64) async throws(HistoryError) -> ImportSummary {
        let path = file.path
        return try await perform { connection throws(PostgresFailure) -> ImportSummary in
            // One snapshot of the database, whatever other machines write meanwhile.
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? connection.execute("ROLLBACK") }
            var summary = ImportSummary()
            do {
                try file.pool.write { db in
                    let insertActivity = try db.cachedStatement(sql: """
                        INSERT INTO activity (\(ActivityRow.postgresColumns.joined(separator: ", "))) \
                        VALUES (\(Array(repeating: "?", count: ActivityRow.postgresColumns.count).joined(separator: ", ")))
                        """)
                    var numbers: [Int64: Int64] = [:]
                    var citing: [(run: Int64, cited: Int64)] = []
                    var after: Int64 = 0
                    while true {
                        // Finished runs after the last batch's, started at `since` or later.
                        let batch = try Self.records(
                            connection, where: "WHERE id > $1 AND started_at_ns >= $2 AND status <> 'running'", [after, sinceNs],
                            order: "id", limit: Self.batchSize, activities: true, timeout: PostgresConnection.bulkTimeout)
                        guard let last = batch.last?.run.id else { break }
                        after = last
                        for record in batch {
                            var run = record.run
                            let sourceID = run.id ?? 0
                            run.id = nil
                            try run.insert(db)
                            numbers[sourceID] = run.id
                            if let cited = record.run.evidenceRun { citing.append((run.id ?? 0, cited)) }
                            for var activity in record.activities {
                                activity.runId = run.id ?? 0
                                try insertActivity.execute(arguments: StatementArguments(activity.postgresValues.map { $0?.databaseValue ?? .null }))
                            }
                        }
                        summary.added += batch.count
                    }
                    for (run, cited) in citing {
                        try db.execute(sql: "UPDATE run SET evidence_run = ? WHERE id = ?", arguments: [numbers[cited], run])
                    }
                }
                // Runs still running here are not over: left out, and counted.
                summary.unfinished = try connection.query(
                    "SELECT count(*) AS running FROM rehearse.run WHERE status = 'running' AND started_at_ns >= $1", [sinceNs]
                ).first?.int("running") ?? 0
            } catch let error as PostgresFailure {
                throw error
            } catch {
                throw PostgresFailure(message: "\(path) cannot be written: \(error)", sqlstate: PostgresFailure.fileState)
            }
            return summary
        } explaining: { error in
            error.sqlstate == PostgresFailure.fileState ? HistoryError(.notWritable, path: path, message: error.message, remedy: "check the place and its free space") : nil
        }
    }

    /// The ids of the runs with these uids that this history has.
    private static func existing(_ connection: PostgresConnection, uids: [String]) throws(PostgresFailure) -> [String: Int64] {
        guard !uids.isEmpty else { return [:] }
        var found: [String: Int64] = [:]
        for row in try connection.query("SELECT uid, id FROM rehearse.run WHERE uid = ANY($1::text[])", [postgresArray(uids)]).rows {
            if let uid = row.string("uid"), let id = row.int64("id") { found[uid] = id }
        }
        return found
    }

    /// Adds runs and their activities, numbered anew; returns their numbers, in order.
    private static func insert(_ connection: PostgresConnection, _ records: [RecordedRun]) throws(PostgresFailure) -> [Int64] {
        guard !records.isEmpty else { return [] }
        let inserted = try insertRows(connection, table: "run", columns: RunRow.postgresColumns, rows: records.map(\.run.postgresValues),
                                      returning: "RETURNING id, uid")
        var ids: [String: Int64] = [:]
        for row in inserted { if let uid = row.string("uid"), let id = row.int64("id") { ids[uid] = id } }
        let numbers = records.map { ids[$0.run.uid ?? ""] ?? 0 }
        var activities: [[(any PostgresValue)?]] = []
        for (record, id) in zip(records, numbers) {
            for var activity in record.activities {
                activity.runId = id
                activities.append(activity.postgresValues)
            }
        }
        _ = try insertRows(connection, table: "activity", columns: ActivityRow.postgresColumns, rows: activities)
        return numbers
    }

    /// Rows inserted with one statement: each column sent as one array (`unnest`), typed as the
    /// table's column is (one parameter a column, not one a value: parsing a statement of 65,535
    /// parameters costs more than the rows).
    private static func insertRows(
        _ connection: PostgresConnection, table: String, columns: [String], rows: [[(any PostgresValue)?]], returning: String = ""
    ) throws(PostgresFailure) -> [PostgresRow] {
        guard !rows.isEmpty else { return [] }
        var types: [String: String] = [:]
        for row in try connection.query("""
            SELECT column_name, format_type(atttypid, atttypmod) AS type FROM information_schema.columns
            JOIN pg_attribute ON attrelid = ('rehearse.' || $1)::regclass AND attname = column_name
            WHERE table_schema = 'rehearse' AND table_name = $1
            """, [table]).rows {
            if let name = row.string("column_name"), let type = row.string("type") { types[name] = type }
        }
        var arrays: [(any PostgresValue)?] = []
        var casts: [String] = []
        for (index, column) in columns.enumerated() {
            let name = column.trimmingCharacters(in: ["\""])
            guard let type = types[name] else { throw PostgresFailure(message: "the history's \(table) table has no column \(name)", sqlstate: "42703") }
            arrays.append(postgresArray(rows.map { $0[index]?.postgresText }))
            casts.append("$\(index + 1)::\(type)[]")
        }
        return try connection.query(
            "INSERT INTO rehearse.\(table) (\(columns.joined(separator: ", "))) SELECT * FROM unnest(\(casts.joined(separator: ", "))) \(returning)",
            arrays, timeout: PostgresConnection.bulkTimeout
        ).rows
    }
}

/// One run's records, as one history holds them and another gets them.
struct RecordedRun: Sendable {
    var run: RunRow
    var activities: [ActivityRow]

    /// Runs of an SQLite history after run `after`, their activities not yet read.
    static func runs(_ db: Database, after: Int64, limit: Int) throws -> [RecordedRun] {
        try RunRow.filter(Column("id") > after).order(Column("id")).limit(limit).fetchAll(db)
            .map { RecordedRun(run: $0, activities: []) }
    }

    /// The activities of these runs of an SQLite history, by run, in order.
    static func activities(_ db: Database, of runs: [Int64]) throws -> [Int64: [ActivityRow]] {
        guard !runs.isEmpty else { return [:] }
        var byRun: [Int64: [ActivityRow]] = [:]
        for activity in try ActivityRow.filter(runs.contains(Column("run_id"))).order(Column("id")).fetchAll(db) {
            byRun[activity.runId, default: []].append(activity)
        }
        return byRun
    }
}

/// A PostgreSQL array literal: `{"a","b",NULL}` (every element quoted, so that only NULL is NULL).
func postgresArray(_ values: [String?]) -> String {
    var literal = "{"
    for (index, value) in values.enumerated() {
        if index > 0 { literal += "," }
        guard let value else {
            literal += "NULL"
            continue
        }
        literal += "\""
        for character in value.unicodeScalars {
            if character == "\\" || character == "\"" { literal += "\\" }
            literal.unicodeScalars.append(character)
        }
        literal += "\""
    }
    return literal + "}"
}

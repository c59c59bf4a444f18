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
                var summary = ImportSummary()
                var numbers: [Int64: Int64] = [:]   // the source's run ids -> this history's
                var citing: [(run: Int64, cited: Int64)] = []
                var after: Int64 = 0
                while true {
                    let batch: [RecordedRun]
                    do {
                        batch = try file.pool.read { db in try RecordedRun.fetch(db, after: after, limit: Self.batchSize) }
                    } catch {
                        throw PostgresFailure(message: "\(source) cannot be read: \(error)", sqlstate: "58030")
                    }
                    guard let last = batch.last?.run.id else { break }
                    after = last
                    let eligible = batch.filter { $0.run.startedAtNs >= sinceNs }
                    let here = try Self.existing(connection, uids: eligible.compactMap(\.run.uid))
                    var adding: [RecordedRun] = []
                    for record in eligible {
                        if let id = here[record.run.uid ?? ""] {
                            numbers[record.run.id ?? 0] = id
                            summary.alreadyThere += 1
                        } else if record.run.status == RunStatus.running.rawValue {
                            summary.unfinished += 1
                        } else {
                            adding.append(record)
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
            error.sqlstate == "58030" ? HistoryError(.corrupt, path: source, message: error.message, remedy: "check the file (nothing was imported)") : nil
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
                        let batch = try Self.fetch(connection, after: after, since: sinceNs, limit: Self.batchSize)
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
            } catch let error as PostgresFailure {
                throw error
            } catch {
                throw PostgresFailure(message: "\(path) cannot be written: \(error)", sqlstate: "58030")
            }
            return summary
        } explaining: { error in
            error.sqlstate == "58030" ? HistoryError(.notWritable, path: path, message: error.message, remedy: "check the place and its free space") : nil
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

    /// Multi-row INSERTs, as few as PostgreSQL's 65,535 parameters a statement allow.
    private static func insertRows(
        _ connection: PostgresConnection, table: String, columns: [String], rows: [[(any PostgresValue)?]], returning: String = ""
    ) throws(PostgresFailure) -> [PostgresRow] {
        let perStatement = max(1, 65_535 / columns.count)
        var returned: [PostgresRow] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            start += chunk.count
            var tuples: [String] = []
            tuples.reserveCapacity(chunk.count)
            var values: [(any PostgresValue)?] = []
            values.reserveCapacity(chunk.count * columns.count)
            for row in chunk {
                tuples.append("(" + postgresPlaceholders(columns.count, from: values.count + 1) + ")")
                values += row
            }
            returned += try connection.query(
                "INSERT INTO rehearse.\(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) \(returning)", values
            ).rows
        }
        return returned
    }

    /// Finished runs after run `after`, started at `since` or later, with their activities.
    private static func fetch(_ connection: PostgresConnection, after: Int64, since: Int64, limit: Int) throws(PostgresFailure) -> [RecordedRun] {
        let runs = try connection.query("""
            SELECT * FROM rehearse.run WHERE id > $1 AND started_at_ns >= $2 AND status <> 'running' ORDER BY id LIMIT $3
            """, [after, since, limit]).rows.map { row throws(PostgresFailure) in try RunRow(postgres: row) }
        guard let first = runs.first?.id, let last = runs.last?.id else { return [] }
        var byRun: [Int64: [ActivityRow]] = [:]
        for row in try connection.query("SELECT * FROM rehearse.activity WHERE run_id BETWEEN $1 AND $2 ORDER BY id", [first, last]).rows {
            let activity = try ActivityRow(postgres: row)
            byRun[activity.runId, default: []].append(activity)
        }
        return runs.map { RecordedRun(run: $0, activities: byRun[$0.id ?? 0] ?? []) }
    }
}

/// One run's records, as one history holds them and another gets them.
struct RecordedRun: Sendable {
    var run: RunRow
    var activities: [ActivityRow]

    /// Runs of an SQLite history after run `after`, with their activities.
    static func fetch(_ db: Database, after: Int64, limit: Int) throws -> [RecordedRun] {
        let runs = try RunRow.filter(Column("id") > after).order(Column("id")).limit(limit).fetchAll(db)
        guard let first = runs.first?.id, let last = runs.last?.id else { return [] }
        var byRun: [Int64: [ActivityRow]] = [:]
        for activity in try ActivityRow.filter(Column("run_id") >= first && Column("run_id") <= last).order(Column("id")).fetchAll(db) {
            byRun[activity.runId, default: []].append(activity)
        }
        return runs.map { RecordedRun(run: $0, activities: byRun[$0.id ?? 0] ?? []) }
    }
}

/// A PostgreSQL array literal of texts: `{"a","b"}`.
func postgresArray(_ values: [String]) -> String {
    "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        .joined(separator: ",") + "}"
}

import Foundation
import GRDB
import RehearseCore
@testable import RehearseStore
import RehearseTestSupport
import Testing

/// What only the SQLite file does: its permissions, its older schemas, refusing files that are
/// not histories. What both stores do is in ``HistoryStoreContractTests``.
@Suite struct HistoryStoreTests {
    static let planText = """
        strategy: custom
        budget: { rollback: 10s }
        targets: { copy: {} }
        steps:
          a: { run: 'true', rollback: 'true' }
          b: { run: 'true', rollback: 'true', needs: a }
        """

    static var plan: Plan {
        PlanParser().parse(planText, file: "/tmp/Rehearsals/p.yml", defaultName: "p").plan!
    }

    static func start(cut: Cut? = nil) -> Run {
        Run(starting: plan, target: "copy",
            provenance: RunProvenance(host: ProcessInfo.processInfo.hostName, user: "tester", pid: getpid(), toolVersion: "test", gitCommit: "abc"),
            cut: cut, jobs: 4, startedAt: Date(), processMark: "mark")
    }

    func record(_ kind: Activity.Kind, _ name: String, _ offset: Int, _ duration: Int, exit: Int32 = 0) -> ActivityRecord {
        ActivityRecord(Activity(kind, name), outcome: ProcessOutcome(termination: .exited(exit), outputTail: "tail"),
                       startOffset: .milliseconds(offset), duration: .milliseconds(duration))
    }

    @Test func createsAnOwnerOnlyDatabaseAndReopensIt() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/state/history.sqlite"
            _ = try await SQLiteHistory(path: path)
            let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(permissions == 0o600)
            let store = try await SQLiteHistory(path: path)
            #expect(try await store.recentRuns().isEmpty)
        }
    }

    /// A history written by version 1 kept its trigger and reasons as English text: opening it
    /// adds their codes, and nothing it recorded is lost.
    @Test func aVersionOneHistoryGetsCodedTriggersAndKeepsItsText() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/h.sqlite"
            let queue = try DatabaseQueue(path: path)
            try HistorySchema.migrator.migrate(queue, upTo: "v1: runs and activities")
            try await queue.write { db in
                for (trigger, reasons) in [
                    ("--fail-at switch", ""), ("forward step 'migrate' failed", "forward step 'migrate' failed (exit 3)"),
                    ("smoke check 'v2 answers' failed", ""), ("interrupted by SIGTERM", ""),
                    ("planned rollback after the forward steps and smoke checks", "rollback of 'a' failed (exit 1)\nleft applied: a"),
                ] {
                    try db.execute(sql: """
                        INSERT INTO run (plan_name, plan_file, plan_text, plan_hash, strategy, target, host, user, pid, pid_start,
                            tool_version, jobs, started_at_ns, status, budget_ns, trigger, trigger_offset_ns, reasons)
                        VALUES ('p', '/p.yml', 'x', 'h', 'custom', 'copy', 'h', 'u', 1, '', '0.1.0', 4, 0, 'failed', 1, ?, 5, ?)
                        """, arguments: [trigger, reasons])
                }
            }
            try queue.close()
            let store = try await SQLiteHistory(path: path)
            let runs = try await store.recentRuns(limit: 10).reversed().map { $0 }
            #expect(runs.map { $0.trigger?.reason } == [
                .injected(step: "switch"), .stepFailed(step: "migrate"), .smokeFailed(check: "v2 answers"),
                .interrupted(signal: SIGTERM), .rehearsal,
            ])
            #expect(runs[1].reasons.map(\.description) == ["forward step 'migrate' failed (exit 3)"])
            #expect(runs[4].reasons.map(\.description) == ["rollback of 'a' failed (exit 1)", "left applied: a"])
        }
    }

    /// A version 2 history (before cuts, groups and inputs): its runs read back as full or
    /// `--fail-at` rehearsals of no group, with no copy and no inputs.
    @Test func aVersionTwoHistoryGainsCutsGroupsAndInputs() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/h.sqlite"
            let queue = try DatabaseQueue(path: path)
            try HistorySchema.migrator.migrate(queue, upTo: "v2: coded triggers and reasons, stray processes")
            try await queue.write { db in
                for failAt in [nil, "b"] as [String?] {
                    try db.execute(sql: """
                        INSERT INTO run (plan_name, plan_file, plan_text, plan_hash, strategy, target, host, user, pid, pid_start,
                            tool_version, fail_at, jobs, started_at_ns, status, budget_ns)
                        VALUES ('p', '/p.yml', 'x', 'h', 'custom', 'copy', 'h', 'u', 1, '', '0.2.0', ?, 4, 0, 'passed', 1)
                        """, arguments: [failAt])
                }
            }
            try queue.close()
            let store = try await SQLiteHistory(path: path)
            let runs = try await store.recentRuns(limit: 10).reversed().map { $0 }
            #expect(runs.map(\.cut) == [nil, .failAt("b")])
            #expect(runs.allSatisfy { $0.group == nil && $0.inputHashes.isEmpty && $0.stepCount == nil && $0.copy == nil })
            // A new run in the same file keeps its new fields.
            var run = Self.start(cut: .before("b"))
            run.group = RunGroup(id: "abcd-1234", size: 2, shard: "1/2")
            run.inputHashes = ["../m.sql": "sha256:00"]
            let id = try await store.beginRun(run).id
            let back = try #require(try await store.run(id: id))
            #expect(back.cut == .before("b"))
            #expect(back.group == RunGroup(id: "abcd-1234", size: 2, shard: "1/2"))
            #expect(back.inputHashes == ["../m.sql": "sha256:00"])
            #expect(back.stepCount == 2)
        }
    }

    @Test func garbageIsRefusedAndLeftUntouched() async throws {
        try await TemporaryFolder.with { folder in
            let path = try folder.write("h.sqlite", "this is my shopping list, not a database\n")
            await #expect { try await SQLiteHistory(path: path) } throws: { ($0 as? HistoryError)?.code == .notADatabase }
            #expect(try folder.read("h.sqlite") == "this is my shopping list, not a database\n")
            #expect(!folder.exists("h.sqlite-wal"))
        }
    }

    /// Between another rehearse's two first commits a new history holds only GRDB's empty
    /// migrations table: a second process opening it then (two CI jobs starting together) takes
    /// it for rehearse's and completes it, not for another application's. One with a migration
    /// of another application's, or with a table of its own, is still refused.
    @Test func aHistoryAnotherProcessIsMakingIsOpenedAndCompleted() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/h.sqlite"
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)") }
            try queue.close()
            let store = try await SQLiteHistory(path: path)
            let run = try await store.beginRun(Self.start())
            #expect(try await store.run(id: run.id)?.status == .running)
            try await store.pool.close()
        }
        for foreign in ["INSERT INTO grdb_migrations VALUES ('orders v1')", "CREATE TABLE orders (id INTEGER)"] {
            try await TemporaryFolder.with { folder in
                let path = folder.path + "/h.sqlite"
                let queue = try DatabaseQueue(path: path)
                try await queue.write { db in
                    try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                    try db.execute(sql: foreign)
                }
                try queue.close()
                await #expect { try await SQLiteHistory(path: path) } throws: { ($0 as? HistoryError)?.code == .notADatabase }
            }
        }
    }

    @Test func aFileFromANewerVersionIsRefused() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/h.sqlite"
            try await SQLiteHistory(path: path).pool.close()
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9: from the future')") }
            // Everything into the main file, so that the snapshot below is the whole database.
            _ = try await queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try queue.close()
            func contents() throws -> [String] {
                let queue = try DatabaseQueue(path: path)
                defer { try? queue.close() }
                return try queue.read { db in
                    try String.fetchAll(db, sql: "SELECT name || ':' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
                        + String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
                        + [String(try Int.fetchOne(db, sql: "SELECT count(*) FROM run") ?? -1)]
                }
            }
            let before = try contents()
            await #expect { try await SQLiteHistory(path: path) } throws: { error in
                guard let error = error as? HistoryError else { return false }
                return error.code == .newerVersion && error.message.contains("v9: from the future")
            }
            // Nothing recorded in it changed: same schema, same migrations, same runs.
            #expect(try contents() == before)
        }
    }

    @Test func aCorruptFileIsRefused() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/h.sqlite"
            let store = try await SQLiteHistory(path: path)
            _ = try await store.beginRun(Self.start())
            _ = try await store.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try store.pool.close()
            // Keep the header, scribble over the schema.
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: 100)
            handle.write(Data(repeating: 0xA5, count: 3000))
            try handle.close()
            await #expect { try await SQLiteHistory(path: path) } throws: { error in
                let code = (error as? HistoryError)?.code
                return code == .corrupt || code == .notADatabase
            }
        }
    }

    @Test func anUnwritablePlaceIsRefused() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("not-a-folder", "x")
            await #expect { try await SQLiteHistory(path: folder.path + "/not-a-folder/h.sqlite") } throws: {
                ($0 as? HistoryError)?.code == .notWritable
            }
        }
    }

    @Test func contentHashIsSHA256() {
        #expect(ContentHash.of("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ContentHash.of("a") != ContentHash.of("a\n"))
    }
}

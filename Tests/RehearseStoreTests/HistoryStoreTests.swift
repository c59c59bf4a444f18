import Foundation
import GRDB
import RehearseCore
@testable import RehearseStore
import RehearseTestSupport
import Testing

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

    static func start() -> RunStart {
        RunStart(plan: plan, target: "copy", failAt: nil, jobs: 4, toolVersion: "test", gitCommit: "abc", logsFolder: nil, processMark: "mark")
    }

    func outcome(_ offset: Int, _ duration: Int, exit: Int32 = 0) -> ProcessOutcome {
        ProcessOutcome(termination: .exited(exit), startOffset: .milliseconds(offset), duration: .milliseconds(duration), outputTail: "tail")
    }

    @Test func createsAnOwnerOnlyDatabaseAndReopensIt() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/state/history.sqlite"
            _ = try HistoryStore(path: path)
            let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(permissions == 0o600)
            let store = try HistoryStore(path: path)
            #expect(try store.recentRuns().isEmpty)
        }
    }

    @Test func journalRoundTrip() async throws {
        try await TemporaryFolder.with { folder in
            let store = try HistoryStore(path: folder.path + "/h.sqlite")
            let id = try store.beginRun(Self.start())
            let rowA = try store.activityStarted(run: id, Activity(.forward, "a"), offset: .milliseconds(1))
            // While a is running, the journal already shows it.
            #expect(try store.run(id: id)?.activities.map(\.status) == ["running"])
            #expect(try store.run(id: id)?.stillApplied == ["a"])
            try store.activityFinished(run: id, row: rowA, Execution(Activity(.forward, "a"), status: .passed, outcome: outcome(1, 5)))
            try store.activityFinished(run: id, row: nil, Execution(Activity(.forward, "b"), status: .injectedFailure))
            let trigger = RollbackTrigger(reason: .injected(step: "b"), offset: .milliseconds(7))
            try store.rollbackTriggered(run: id, trigger)
            for (step, offset) in [("b", 8), ("a", 10)] {
                let row = try store.activityStarted(run: id, Activity(.rollback, step), offset: .milliseconds(offset))
                try store.activityFinished(run: id, row: row, Execution(Activity(.rollback, step), status: .passed, outcome: outcome(offset, 2)))
            }
            let header = RunHeader(runID: String(id), plan: Self.plan, target: "copy", startedAt: Date(), failAt: "b", jobs: 4)
            let record = RunRecord(
                header: header, executions: [], trigger: trigger, forwardDuration: .milliseconds(5),
                rollbackDuration: .milliseconds(5), totalDuration: .milliseconds(12), fingerprintBefore: "x",
                fingerprintAfter: "x", leftApplied: [], leftAppliedHarmless: [], strayProcesses: [],
                verdict: Verdict(outcome: .passed, budgetShare: 0.0005))
            try store.finishRun(run: id, record)

            let run = try #require(try store.run(id: id))
            #expect(run.status == .passed)
            #expect(run.planName == "p")
            #expect(run.planText == Self.planText)
            #expect(run.planHash == ContentHash.of(Self.planText))
            #expect(run.planHash.hasPrefix("sha256:") && run.planHash.count == 71)
            #expect(run.gitCommit == "abc")
            #expect(run.budget == .seconds(10))
            #expect(run.rollback == .milliseconds(5))
            #expect(run.trigger == "--fail-at b")
            #expect(run.triggerOffset == .milliseconds(7))
            #expect(run.activities.map(\.name) == ["a", "b", "b", "a"])
            #expect(run.activities[0].duration == .milliseconds(5))
            #expect(run.activities[0].exitStatus == 0)
            #expect(run.activities[0].outputTail == "tail")
            #expect(run.stillApplied.isEmpty)
            #expect(run.pid == getpid())
            #expect(try store.recentRuns().map(\.id) == [id])
        }
    }

    @Test func aRunWhoseHarnessDiedIsMarkedAbandoned() async throws {
        try await TemporaryFolder.with { folder in
            let store = try HistoryStore(path: folder.path + "/h.sqlite")
            let alive = try store.beginRun(Self.start())
            let dead = try store.beginRun(Self.start())
            let row = try store.activityStarted(run: dead, Activity(.forward, "a"), offset: .zero)
            _ = row
            // Pretend the second run's harness is a process that no longer exists.
            try store.pool.write { db in
                try db.execute(sql: "UPDATE run SET pid = 999999999, pid_start = 'gone' WHERE id = ?", arguments: [dead])
            }
            let abandoned = try store.markAbandoned()
            #expect(abandoned.map(\.id) == [dead])
            #expect(abandoned.first?.processMark == "mark")
            #expect(try store.run(id: alive)?.status == .running)
            let run = try #require(try store.run(id: dead))
            #expect(run.status == .abandoned)
            #expect(run.activities.map(\.status) == [RecordedActivity.inFlight])
            #expect(run.leftApplied == ["a"])
            #expect(try store.latestRecoverableRunID() == dead)
            // Marking again finds nothing new.
            #expect(try store.markAbandoned().isEmpty)
        }
    }

    @Test func garbageIsRefusedAndLeftUntouched() async throws {
        try await TemporaryFolder.with { folder in
            let path = try folder.write("h.sqlite", "this is my shopping list, not a database\n")
            #expect { try HistoryStore(path: path) } throws: { ($0 as? HistoryError)?.code == .notADatabase }
            #expect(try folder.read("h.sqlite") == "this is my shopping list, not a database\n")
            #expect(!folder.exists("h.sqlite-wal"))
        }
    }

    @Test func aFileFromANewerVersionIsRefused() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/h.sqlite"
            try HistoryStore(path: path).pool.close()
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9: from the future')") }
            // Everything into the main file, so that the snapshot below is the whole database.
            _ = try queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
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
            #expect { try HistoryStore(path: path) } throws: { error in
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
            let store = try HistoryStore(path: path)
            _ = try store.beginRun(Self.start())
            _ = try store.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try store.pool.close()
            // Keep the header, scribble over the schema.
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: 100)
            handle.write(Data(repeating: 0xA5, count: 3000))
            try handle.close()
            #expect { try HistoryStore(path: path) } throws: { error in
                let code = (error as? HistoryError)?.code
                return code == .corrupt || code == .notADatabase
            }
        }
    }

    @Test func anUnwritablePlaceIsRefused() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("not-a-folder", "x")
            #expect { try HistoryStore(path: folder.path + "/not-a-folder/h.sqlite") } throws: {
                ($0 as? HistoryError)?.code == .notWritable
            }
        }
    }

    @Test func contentHashIsSHA256() {
        #expect(ContentHash.of("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ContentHash.of("a") != ContentHash.of("a\n"))
    }
}

extension HistoryStoreTests {
    @Test func manyOpenersOfANewHistoryAllSucceed() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/new.sqlite"
            let results = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            let store = try HistoryStore(path: path)
                            _ = try store.beginRun(Self.start())
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0 })
            let runs = try HistoryStore(path: path).recentRuns()
            #expect(runs.count == 8)
        }
    }
}

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

    @Test func journalRoundTrip() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteHistory(path: folder.path + "/h.sqlite")
            let id = try await store.beginRun(Self.start(cut: .failAt("b"))).id
            let rowA = try await store.activityStarted(run: id, Activity(.forward, "a"), offset: .milliseconds(1))
            // While a is running, the journal already shows it.
            #expect(try await store.run(id: id)?.activities.map(\.status) == [.running])
            #expect(try await store.run(id: id)?.stillApplied == ["a"])
            try await store.activityFinished(run: id, row: rowA, record(.forward, "a", 1, 5))
            try await store.activityFinished(run: id, row: nil, ActivityRecord(Activity(.forward, "b"), status: .injectedFailure))
            let trigger = RollbackTrigger(reason: .injected(step: "b"), offset: .milliseconds(7))
            try await store.rollbackTriggered(run: id, trigger)
            for (step, offset) in [("b", 8), ("a", 10)] {
                let row = try await store.activityStarted(run: id, Activity(.rollback, step), offset: .milliseconds(offset))
                try await store.activityFinished(run: id, row: row, record(.rollback, step, offset, 2))
            }
            var finished = try #require(try await store.run(id: id))
            finished.status = .passed
            finished.endedAt = Date()
            finished.forward = .milliseconds(5)
            finished.rollback = .milliseconds(5)
            finished.total = .milliseconds(12)
            finished.trigger = trigger
            finished.fingerprintBefore = "x"
            finished.fingerprintAfter = "x"
            try await store.finishRun(finished)

            let run = try #require(try await store.run(id: id))
            #expect(run.status == .passed)
            #expect(run.planName == "p")
            #expect(run.planText == Self.planText)
            #expect(run.planHash == ContentHash.of(Self.planText))
            #expect(run.planHash.hasPrefix("sha256:") && run.planHash.count == 71)
            #expect(run.gitCommit == "abc")
            #expect(run.failAt == "b")
            #expect(run.jobs == 4)
            #expect(run.budget == .seconds(10))
            #expect(run.rollback == .milliseconds(5))
            #expect(run.trigger == trigger)
            #expect(run.activities.map(\.name) == ["a", "b", "b", "a"])
            #expect(run.activities.map(\.status) == [.passed, .injectedFailure, .passed, .passed])
            #expect(run.activities[0].duration == .milliseconds(5))
            #expect(run.activities[0].exitStatus == 0)
            #expect(run.activities[0].outputTail == "tail")
            #expect(run.stillApplied.isEmpty)
            #expect(run.pid == getpid())
            #expect(try await store.recentRuns().map(\.id) == [id])
        }
    }

    /// The run read back is the run written: every field, the coded trigger and reasons included.
    @Test func aFinishedRunReadsBackExactlyAsWritten() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteHistory(path: folder.path + "/h.sqlite")
            var run = try await store.beginRun(Self.start())
            let activities = [
                record(.forward, "a", 1, 5),
                ActivityRecord(Activity(.forward, "b"), outcome: ProcessOutcome(termination: .signaled(9), timedOut: true, outputTail: "slow"),
                               startOffset: .milliseconds(6), duration: .milliseconds(40)),
                ActivityRecord(Activity(.rollback, "b"), outcome: ProcessOutcome(termination: .couldNotStart("its folder is gone")),
                               startOffset: .milliseconds(50), duration: .zero),
                ActivityRecord(Activity(.rollback, "a"), status: .blocked),
            ]
            for activity in activities { try await store.activityFinished(run: run.id, row: nil, activity) }
            run.activities = activities
            run.status = .failed
            run.endedAt = Run.recordedTime(Date())
            run.forward = .milliseconds(46)
            run.rollback = .milliseconds(3)
            run.total = .milliseconds(60)
            run.trigger = RollbackTrigger(reason: .stepFailed(step: "b"), offset: .milliseconds(46))
            run.reasons = [
                .stepFailed(step: "b", how: "timed out"), .rollbackFailed(step: "b", how: "could not start: its folder is gone"),
                .rollbackBlocked(step: "a"), .checkFailed(phase: .restored, check: "v1 answers", how: "exit 22"),
                .targetCommandFailed(phase: .teardown, target: "copy", how: "exit 1"), .fingerprintDiffers,
                .fingerprintCommandFailed(how: "exit 2"), .rollbackAbandoned(step: "c"), .leftApplied(steps: ["a", "b"]),
            ]
            run.leftApplied = ["a", "b"]
            run.strayProcesses = ["python3 server.py"]
            run.fingerprintBefore = "before\n"
            run.fingerprintAfter = "after\n"
            try await store.finishRun(run)
            let read = try #require(try await store.run(id: run.id))
            #expect(read == run)
        }
    }

    /// A fingerprint kept in part keeps its size, digest and being in part: what `recover` and
    /// the reports compare by. The one taken before is kept as soon as it is taken.
    @Test func fingerprintsKeptInPartReadBackWithTheirDigests() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteHistory(path: folder.path + "/h.sqlite")
            var run = try await store.beginRun(Self.start())
            let before = FingerprintOutput(text: "row 1\n", digest: "sha256:aa", size: 3_000_000, isWhole: false)
            try await store.fingerprintTaken(run: run.id, before: before)
            #expect(try await store.run(id: run.id)?.fingerprints.before == before)
            let control = FingerprintOutput(text: "c\n", digest: "sha256:cc", size: 2, isWhole: true)
            try await store.fingerprintTaken(run: run.id, control: control)
            let stored = try #require(try await store.run(id: run.id))
            #expect(stored.fingerprints.before == before && stored.fingerprints.control == control)
            run.status = .passed
            run.endedAt = Run.recordedTime(Date())
            run.fingerprints = RunFingerprints(before: before, after: FingerprintOutput(text: "row 1\n", digest: "sha256:bb", size: 3_000_001, isWhole: false),
                                               control: control)
            try await store.finishRun(run)
            let read = try #require(try await store.run(id: run.id))
            #expect(read.fingerprints == run.fingerprints)
            #expect(read == run)
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

    @Test func aRunWhoseHarnessDiedIsMarkedAbandoned() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteHistory(path: folder.path + "/h.sqlite")
            let alive = try await store.beginRun(Self.start()).id
            let dead = try await store.beginRun(Self.start()).id
            _ = try await store.activityStarted(run: dead, Activity(.forward, "a"), offset: .zero)
            // Pretend the second run's harness is a process that no longer exists.
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE run SET pid = 999999999, pid_start = 'gone' WHERE id = ?", arguments: [dead])
            }
            let abandoned = try await store.markAbandoned()
            #expect(abandoned.map(\.id) == [dead])
            #expect(abandoned.first?.processMark == "mark")
            #expect(try await store.run(id: alive)?.status == .running)
            let run = try #require(try await store.run(id: dead))
            #expect(run.status == .abandoned)
            #expect(run.activities.map(\.status) == [.inFlight])
            #expect(run.leftApplied == ["a"])
            #expect(try await store.latestRecoverableRunID() == dead)
            // Marking again finds nothing new.
            #expect(try await store.markAbandoned().isEmpty)
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

extension HistoryStoreTests {
    @Test func manyOpenersOfANewHistoryAllSucceed() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/new.sqlite"
            let results = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            let store = try await SQLiteHistory(path: path)
                            _ = try await store.beginRun(Self.start())
                            return nil
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(results.compactMap { $0 }.isEmpty, "\(results.compactMap { $0 })")
            let runs = try await SQLiteHistory(path: path).recentRuns()
            #expect(runs.count == 8)
        }
    }
}

import Foundation
import GRDB
import RehearseCore
import RehearseEngine
import RehearseRunner
import RehearseStore
import RehearseTestSupport
import Synchronization
import Testing

/// Fail closed: when the journal cannot be written (a full disk, a damaged database), no command
/// starts unrecorded, nothing more starts on the forward side, and what was applied is rolled back.
@Suite(.timeLimit(.minutes(1))) struct FailClosedTests {
    static let text = """
        strategy: custom
        budget: { rollback: 1s }
        targets:
          copy: { teardown: ./remove }
        checks:
          restored: [ { name: v1, run: ./v1 } ]
        steps:
          a: { run: ./a, rollback: ./undo-a }
          b: { run: ./b, rollback: ./undo-b, needs: a }
          c: { run: ./c, rollback: ./undo-c, needs: b }
        """

    /// A history that accepts `rows` activities, then fails every write to them as a full disk would.
    func history(in folder: TemporaryFolder, acceptingActivities rows: Int) async throws -> any HistoryStore {
        let path = folder.path + "/.rehearse/history.sqlite"
        let (history, _) = try await HistoryAccess.open(path)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: """
                CREATE TRIGGER disk_full_insert BEFORE INSERT ON activity WHEN (SELECT count(*) FROM activity) >= \(rows)
                BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;
                CREATE TRIGGER disk_full_update BEFORE UPDATE ON activity WHEN (SELECT count(*) FROM activity) >= \(rows)
                BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;
                """)
        }
        try queue.close()
        return history
    }

    @Test func aStepWhoseStartCannotBeJournaledNeverRunsAndWhatRanIsRolledBack() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try #require(PlanFile.load(try folder.write("Rehearsals/p.yml", Self.text)).plan)
            let history = try await history(in: folder, acceptingActivities: 2)
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock)
            let warnings = Mutex<[String]>([])
            let run = try await RehearsalEngine(executor: executor, clock: clock).rehearse(
                plan, RehearsalRequest(), history: history, warn: { message in warnings.withLock { $0.append(message) } })
            // c's start could not be written: it never ran. a and b did, and were rolled back.
            #expect(executor.started == ["forward a", "forward b", "rollback b", "rollback a", "restored v1", "teardown copy"])
            #expect(run.status == .failed)
            #expect(run.hasHarnessFault)
            #expect(run.trigger?.reason == .historyUnwritable)
            #expect(run.leftApplied.isEmpty)
            #expect(warnings.withLock { $0.count } == 1)
            #expect(warnings.withLock { $0.first }?.contains("nothing more starts") == true)
        }
    }

    /// A series stops at the run that could not be recorded.
    @Test func aSeriesStopsAtARunThatCannotBeRecorded() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try #require(PlanFile.load(try folder.write("Rehearsals/p.yml", Self.text)).plan)
            let history = try await history(in: folder, acceptingActivities: 0)
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock)
            let series = await RehearsalEngine(executor: executor, clock: clock).rehearse([(plan, history), (plan, history)], RehearsalRequest())
            #expect(series.runs.count == 1)
            #expect(series.runs[0].hasHarnessFault)
            #expect(!executor.started.contains { $0.hasPrefix("forward") })
        }
    }
}

/// Recoveries of one run do not overlap: the one that holds the run (as `running`) refuses others.
@Suite(.timeLimit(.minutes(1))) struct RecoverySerializationTests {
    @Test func aRunBeingRecoveredIsNotRecoveredTwice() async throws {
        try await TemporaryFolder.with { folder in
            // (No teardown: the copy is still there to recover.)
            let plan = try #require(PlanFile.load(try folder.write("Rehearsals/p.yml", RehearsalEngineTests.text)).plan)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock, script: ["rollback b": .fail(exit: 1, after: .zero)])
            let engine = RehearsalEngine(executor: executor, clock: clock)
            let run = try await engine.rehearse(plan, RehearsalRequest(), history: history)
            #expect(run.stillApplied == ["a", "b"])
            // Another process holds it (this one's identity stands in for it, alive).
            #expect(try await history.reopenRun(run.id, expected: run.status, by: .current(toolVersion: "test")))
            let second = try await engine.recover(RecoveryRequest(runID: run.id), history: history)
            guard case .refused(.stillRunning) = second else { Issue.record("\(second)"); return }
            try await history.releaseRun(run.id, status: run.status, host: run.host, pid: run.pid)
            let fixed = RehearsalEngine(executor: ScriptedExecutor(clock: clock), clock: clock)
            let third = try await fixed.recover(RecoveryRequest(runID: run.id), history: history)
            guard case .recovered(_, let left, _) = third else { Issue.record("\(third)"); return }
            #expect(left.isEmpty)
            #expect(try await history.run(id: run.id)?.status == run.status)
        }
    }
}

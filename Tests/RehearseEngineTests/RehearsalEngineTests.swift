import Foundation
import RehearseCore
import RehearseEngine
import RehearseRunner
@testable import RehearseStore
import GRDB
import RehearseTestSupport
import Testing

/// The engine in-process: a scripted executor and a manual clock, a real SQLite history in a
/// temporary folder.
@Suite(.timeLimit(.minutes(1))) struct RehearsalEngineTests {
    static let text = """
        strategy: custom
        budget: { rollback: 1s }
        targets:
          copy: {}
          production: { protected: true }
        checks:
          restored: [ { name: v1, run: 'true' } ]
        steps:
          a: { run: ./a, rollback: ./undo-a }
          b: { run: ./b, rollback: ./undo-b, needs: a }
          retire: { run: ./retire, irreversible: true, needs: b }
        """

    func plan(in folder: TemporaryFolder) throws -> Plan {
        let file = try folder.write("Rehearsals/p.yml", Self.text)
        return try #require(PlanFile.load(file).plan)
    }

    @Test func theRunReturnedIsTheRunRecorded() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, reaped) = try await HistoryAccess.open(folder.path + "/.rehearse/history.sqlite")
            #expect(reaped.isEmpty)
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock, script: ["rollback b": .fail(exit: 4, after: .milliseconds(30))])
            let engine = RehearsalEngine(executor: executor, clock: clock, toolVersion: "test")
            let run = try await engine.rehearse(plan, RehearsalRequest(), history: history)
            #expect(run.id == 1)
            #expect(run.status == .failed)
            #expect(run.reasons == [.rollbackFailed(step: "b", how: "exit 4"), .rollbackBlocked(step: "a")])
            #expect(run.toolVersion == "test")
            #expect(run.planHash == ContentHash.of(Self.text))
            let recorded = try #require(try await history.run(id: run.id))
            #expect(recorded == run)
            // Its logs folder is beside the history.
            #expect(folder.exists(".rehearse/logs/1"))
        }
    }

    @Test func everyProblemIsFoundBeforeAnythingRuns() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let engine = RehearsalEngine(executor: ScriptedExecutor(clock: ManualClock()))
            #expect(engine.problems([plan], RehearsalRequest()).isEmpty)
            #expect(engine.problems([plan], RehearsalRequest(target: "staging")) == [
                .noSuchTarget(plan: "p", file: plan.file, target: "staging", available: ["copy", "production"]),
            ])
            #expect(engine.problems([plan], RehearsalRequest(target: "production")) == [.protectedTarget(plan: "p", target: "production")])
            #expect(engine.problems([plan], RehearsalRequest(target: "production", approve: "copy")) == [
                .protectedTarget(plan: "p", target: "production"),
            ])
            #expect(engine.problems([plan], RehearsalRequest(target: "production", approve: "production")).isEmpty)
            #expect(engine.problems([plan], RehearsalRequest(cut: .failAt("nope"))) == [.noStepForCut(.failAt("nope"))])
            #expect(engine.problems([plan], RehearsalRequest(cut: .before("retire"))) == [.cutBeyondPointOfNoReturn(plan: "p", .before("retire"))])
        }
    }

    /// The engine checks its own request: a library caller cannot run a protected target
    /// unapproved, or a target the plan lacks.
    @Test func theEngineRefusesWhatShouldNotRun() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock)
            let engine = RehearsalEngine(executor: executor, clock: clock)
            for request in [RehearsalRequest(target: "production"), RehearsalRequest(target: "staging"), RehearsalRequest(cut: .failAt("retire"))] {
                await #expect {
                    try await engine.rehearse(plan, request, history: history)
                } throws: { error in
                    guard let error = error as? EngineError, case .refused = error.code else { return false }
                    return true
                }
            }
            #expect(executor.started.isEmpty)
            #expect(try await history.recentRuns().isEmpty)
        }
    }

    /// A signal cancels the stage that is writing a command's start: the write still completes,
    /// so nothing ever starts unrecorded.
    @Test func aCancelledTaskStillRecords() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await history.beginRun(Run(starting: plan, target: "copy",
                                                      provenance: RunProvenance(host: "h", user: "u", pid: 1, toolVersion: "t"),
                                                      startedAt: Date()))
            }
            let run = try await task.value
            #expect(try await history.run(id: run.id) != nil)
        }
    }

    @Test func anInterruptedRunEndsTheSeries() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            let control = RunControl(clock: clock)
            let executor = ScriptedExecutor(clock: clock, script: ["forward b": .signal(SIGINT, then: .hang)], control: control)
            let series = await RehearsalEngine(executor: executor, clock: clock)
                .rehearse([(plan, history), (plan, history)], RehearsalRequest(), control: control)
            #expect(series.runs.map(\.status) == [.interrupted])
            #expect(series.fault == nil)
            #expect(try await history.recentRuns().count == 1)
        }
    }

    @Test func recoveryRollsBackWhatTheJournalShowsAndRecordsIt() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            // The rollback of b fails: a and b are left applied.
            let failing = ScriptedExecutor(clock: clock, script: ["rollback b": .fail(exit: 1, after: .milliseconds(5))])
            let run = try await RehearsalEngine(executor: failing, clock: clock).rehearse(plan, RehearsalRequest(), history: history)
            #expect(run.leftApplied == ["a", "b"])

            let fixed = ScriptedExecutor(clock: clock)
            let engine = RehearsalEngine(executor: fixed, clock: clock)
            guard case .recovered(let after, let still) = try await engine.recover(RecoveryRequest(), history: history) else {
                Issue.record("expected a recovery")
                return
            }
            #expect(after.id == run.id)
            #expect(still.isEmpty)
            #expect(fixed.started == ["rollback b", "rollback a"])
            #expect(try await history.run(id: run.id)?.leftApplied == [])
            // Nothing is left: a second recovery has nothing to do.
            guard case .nothingToRecover(nil) = try await engine.recover(RecoveryRequest(), history: history) else {
                Issue.record("expected nothing to recover")
                return
            }
            guard case .refused(.noSuchRun(run: 9, _)) = try await engine.recover(RecoveryRequest(runID: 9), history: history) else {
                Issue.record("expected no such run")
                return
            }
        }
    }

    /// A run that cannot be recorded does not start: nothing runs, and the fault is the engine's.
    @Test func aRunThatCannotBeRecordedDoesNotStart() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            try history.pool.close()
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock)
            await #expect {
                try await RehearsalEngine(executor: executor, clock: clock).rehearse(plan, RehearsalRequest(), history: history)
            } throws: { error in
                guard let error = error as? EngineError, case .history = error.code else { return false }
                return true
            }
            #expect(executor.started.isEmpty)
        }
    }

    @Test func aHistoryThatCannotBeUsedIsAnEngineError() async throws {
        try await TemporaryFolder.with { folder in
            let path = try folder.write("h.sqlite", "not a database")
            await #expect {
                try await HistoryAccess.open(path)
            } throws: { error in
                guard let error = error as? EngineError, case .history(let cause) = error.code else { return false }
                return cause.code == .notADatabase
            }
        }
    }
}

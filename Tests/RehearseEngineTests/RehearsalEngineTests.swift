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
            // Its logs folder is beside the history, named by its number and its unique token.
            let logs = try #require(run.logsFolder)
            #expect(URL(fileURLWithPath: logs).lastPathComponent == "1-" + (run.processMark ?? "").lowercased().prefix(8))
            #expect(URL(fileURLWithPath: logs).deletingLastPathComponent().path == folder.path + "/.rehearse/logs")
            #expect(try FileManager.default.attributesOfItem(atPath: logs)[.posixPermissions] as? Int == 0o700)
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
            guard case .recovered(let after, let still, let problems) = try await engine.recover(RecoveryRequest(), history: history) else {
                Issue.record("expected a recovery")
                return
            }
            #expect(after.id == run.id)
            #expect(still.isEmpty)
            // Rolled back, then verified: the restored checks ran, and passed.
            #expect(fixed.started == ["rollback b", "rollback a", "restored v1"])
            #expect(problems.isEmpty)
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

    @Test func everyCutRecordsOneGroupWithACutPerReversibleStepAndTheFullRehearsal() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock)
            let result = await RehearsalEngine(executor: executor, clock: clock).rehearseEveryCut(plan, RehearsalRequest(), history: history)
            #expect(result.fault == nil)
            #expect(result.cuts == [.failAt("a"), .failAt("b"), nil])
            #expect(result.runs.map(\.cut) == [.failAt("a"), .failAt("b"), nil])
            #expect(result.passed)
            #expect(result.runs.allSatisfy { $0.group == result.group })
            #expect(result.group.size == 3)
            // Each cut ran from a fresh copy: setup would run per cut; here, each its own run.
            #expect(executor.started.filter { $0 == "forward a" }.count == 3)
            let recorded = try await history.groupRuns(prefix: String(result.group.id.prefix(6)))
            #expect(recorded.map(\.id) == result.runs.map(\.id).sorted())
            // A shard runs its slice only.
            let shard = await RehearsalEngine(executor: ScriptedExecutor(clock: clock), clock: clock)
                .rehearseEveryCut(plan, RehearsalRequest(), shard: Shard("2/2"), history: history)
            #expect(shard.cuts == [.failAt("b")])
            #expect(shard.group.shard == "2/2")
            #expect(!shard.runs.isEmpty && shard.runs.allSatisfy { $0.group?.size == 1 })
        }
    }

    @Test func aSignalStopsStartingNewCuts() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            let control = RunControl(clock: clock)
            // The second cut is interrupted while b runs: the full rehearsal never starts.
            let executor = ScriptedExecutor(clock: clock, script: ["forward b": .signal(SIGINT, then: .hang)], control: control)
            let result = await RehearsalEngine(executor: executor, clock: clock)
                .rehearseEveryCut(plan, RehearsalRequest(), history: history, control: control)
            #expect(result.runs.map(\.status) == [.passed, .interrupted])
            #expect(!result.passed)
            #expect(try await history.recentRuns().count == 2)
        }
    }

    @Test func aRefusedEveryCutRunsNothing() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let executor = ScriptedExecutor(clock: ManualClock())
            let result = await RehearsalEngine(executor: executor).rehearseEveryCut(plan, RehearsalRequest(target: "production"), history: history)
            #expect(result.runs.isEmpty)
            #expect(result.fault != nil)
            #expect(executor.started.isEmpty)
            // Several copies that nothing keeps apart would share one copy: refused too.
            let shared = await RehearsalEngine(executor: executor).rehearseEveryCut(plan, RehearsalRequest(), copies: 2, history: history)
            #expect(shared.runs.isEmpty)
            #expect(executor.started.isEmpty)
            #expect(RehearsalEngine().problems([plan], RehearsalRequest(), copies: 2) == [.copiesNotKeptApart(plan: "p", target: "copy", copies: 2)])
            #expect(RehearsalEngine().problems([plan], RehearsalRequest(), copies: 1).isEmpty)
        }
    }

    /// A run of an every-cut group ran on one of several copies: `recover` rolls back on that copy.
    @Test func recoveryRollsBackOnTheCopyTheRunHad() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            var run = Run(starting: plan, target: "copy", provenance: .current(toolVersion: "test"), copy: 3, startedAt: Date())
            run = try await history.beginRun(run)
            let row = try await history.activityStarted(run: run.id, Activity(.forward, "a"), offset: .milliseconds(1))
            try await history.activityFinished(run: run.id, row: row, ActivityRecord(
                Activity(.forward, "a"), outcome: ProcessOutcome(termination: .exited(0)), startOffset: .milliseconds(1), duration: .milliseconds(2)))
            run.status = .interrupted
            run.leftApplied = ["a"]
            try await history.finishRun(run)
            #expect(try await history.run(id: run.id)?.copy == 3)
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock)
            guard case .recovered = try await RehearsalEngine(executor: executor, clock: clock).recover(RecoveryRequest(), history: history) else {
                Issue.record("expected a recovery")
                return
            }
            #expect(executor.started == ["rollback a", "restored v1"])
            #expect(executor.environment(of: "rollback a")?["REHEARSE_COPY"] == "3")
        }
    }

    /// An atomic step that failed on its own applied nothing: `recover` does not roll it back.
    @Test func recoveryLeavesAFailedAtomicStepAlone() async throws {
        try await TemporaryFolder.with { folder in
            let file = try folder.write("Rehearsals/p.yml", Self.text.replacingOccurrences(
                of: "b: { run: ./b, rollback: ./undo-b, needs: a }", with: "b: { run: ./b, rollback: ./undo-b, needs: a, atomic: true }"))
            let plan = try #require(PlanFile.load(file).plan)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            let failing = ScriptedExecutor(clock: clock, script: ["forward b": .fail(exit: 1, after: .milliseconds(5)),
                                                                  "rollback a": .fail(exit: 1, after: .milliseconds(5))])
            let run = try await RehearsalEngine(executor: failing, clock: clock).rehearse(plan, RehearsalRequest(), history: history)
            #expect(failing.started.filter { $0.hasPrefix("rollback") } == ["rollback a"])
            #expect(run.leftApplied == ["a"])
            #expect(run.stillApplied == ["a", "b"])
            #expect(run.stillApplied(atomic: ["b"]) == ["a"])
            let fixed = ScriptedExecutor(clock: clock)
            guard case .recovered(_, let still, _) = try await RehearsalEngine(executor: fixed, clock: clock).recover(RecoveryRequest(), history: history) else {
                Issue.record("expected a recovery")
                return
            }
            #expect(still.isEmpty)
            #expect(fixed.started == ["rollback a", "restored v1"])
        }
    }

    /// The content hash covers the plan's inputs; pipes and devices matched by a glob are never read.
    @Test func theContentHashCoversTheInputs() async throws {
        try await TemporaryFolder.with { folder in
            let file = try folder.write("Rehearsals/p.yml", Self.text.replacingOccurrences(of: "steps:", with: "inputs: [ '../migrations', '../scripts/*' ]\nsteps:"))
            try folder.write("migrations/001.sql", "CREATE TABLE t (id int);\n")
            try folder.write("migrations/sub/002.sql", "SELECT 1;\n")
            try folder.write("migrations/.hidden", "x")
            try folder.write("migrations/.git/HEAD", "ref")
            try folder.write("scripts/go.sh", "echo go\n")
            #expect(mkfifo(folder.path + "/scripts/pipe", 0o600) == 0)
            // A folder reached through a symbolic link is walked; a link back up is walked once.
            try folder.write("vendor/lib.sql", "SELECT 3;\n")
            try FileManager.default.createSymbolicLink(atPath: folder.path + "/migrations/vendor", withDestinationPath: folder.path + "/vendor")
            try FileManager.default.createSymbolicLink(atPath: folder.path + "/vendor/loop", withDestinationPath: folder.path + "/migrations")
            let plan = try #require(PlanFile.load(file).plan)
            #expect(PlanContent.files(of: plan) == [
                "../migrations/.hidden", "../migrations/001.sql", "../migrations/sub/002.sql", "../migrations/vendor/lib.sql", "../scripts/go.sh",
            ])
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            let run = try await RehearsalEngine(executor: ScriptedExecutor(clock: clock), clock: clock)
                .rehearse(plan, RehearsalRequest(), history: history)
            #expect(run.inputHashes.count == 5)
            #expect(run.inputHashes["../migrations/001.sql"] == ContentHash.of("CREATE TABLE t (id int);\n"))
            #expect(run.planHash != ContentHash.of(plan.source))
            #expect(run.planHash == PlanContent.combinedHash(text: plan.source, inputs: run.inputHashes))
            #expect(try await history.run(id: run.id)?.inputHashes == run.inputHashes)
            // One byte more in a migration, even one reached through a link: another content.
            try folder.write("vendor/lib.sql", "SELECT 4;\n")
            #expect(try PlanContent.of(plan).hash != run.planHash)
        }
    }

    /// Killed between the probe's change and its undo: recover undoes the probe too.
    @Test func recoveryUndoesAProbeLeftApplied() async throws {
        try await TemporaryFolder.with { folder in
            let file = try folder.write("Rehearsals/p.yml", Self.text.replacingOccurrences(
                of: "steps:", with: "fingerprint: { run: ./digest, probe: { run: ./probe change, undo: ./probe undo } }\nsteps:"))
            let plan = try #require(PlanFile.load(file).plan)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            var run = Run(starting: plan, target: "copy", provenance: .current(toolVersion: "test"), startedAt: Date())
            run = try await history.beginRun(run)
            let row = try await history.activityStarted(run: run.id, Activity(.preflight, "fingerprint probe"), offset: .milliseconds(1))
            try await history.activityFinished(run: run.id, row: row, ActivityRecord(
                Activity(.preflight, "fingerprint probe"), outcome: ProcessOutcome(termination: .exited(0)), startOffset: .milliseconds(1), duration: .milliseconds(2)))
            run.status = .interrupted
            try await history.finishRun(run)
            #expect(try await history.run(id: run.id)?.probeLeftApplied == true)
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock)
            guard case .recovered = try await RehearsalEngine(executor: executor, clock: clock).recover(RecoveryRequest(runID: run.id), history: history) else {
                Issue.record("expected a recovery")
                return
            }
            #expect(executor.started.first == "preflight fingerprint probe undo")
        }
    }

    /// A run that cannot be recorded does not start: nothing runs, and the fault is the engine's.
    @Test func aRunThatCannotBeRecordedDoesNotStart() async throws {
        try await TemporaryFolder.with { folder in
            let plan = try plan(in: folder)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            try (history as! SQLiteHistory).pool.close()
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

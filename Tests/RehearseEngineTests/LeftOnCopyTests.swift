import Foundation
import RehearseCore
import RehearseEngine
import RehearseRunner
import RehearseStore
import RehearseTestSupport
import Synchronization
import Testing

/// A run never starts from a copy that an earlier run left changed: what it would certify would
/// be about another copy than the one it starts from.
@Suite(.timeLimit(.minutes(1))) struct LeftOnCopyTests {
    static func text(target: String) -> String {
        """
        strategy: custom
        budget: { rollback: 1s }
        targets:
          copy: \(target)
        steps:
          a: { run: ./a, rollback: ./undo-a }
          b: { run: ./b, rollback: ./undo-b, needs: a }
        """
    }

    struct World {
        let plan: Plan
        let history: any HistoryStore
        let clock = ManualClock()

        func engine(_ script: [String: ScriptedExecutor.Behaviour] = [:]) -> (RehearsalEngine, ScriptedExecutor) {
            let executor = ScriptedExecutor(clock: clock, script: script)
            return (RehearsalEngine(executor: executor, clock: clock, toolVersion: "test"), executor)
        }

        /// Run 1: the rollback of b fails, so a (blocked behind it) and b are left applied.
        func leaveTheCopyChanged() async throws -> Run {
            let run = try await engine(["rollback b": .fail(exit: 4, after: .zero)]).0.rehearse(plan, RehearsalRequest(), history: history)
            #expect(run.status == .failed)
            #expect(run.leftApplied == ["a", "b"])
            return run
        }
    }

    func world(target: String = "{}", _ body: (World) async throws -> Void) async throws {
        try await TemporaryFolder.with { folder in
            let file = try folder.write("Rehearsals/p.yml", Self.text(target: target))
            let plan = try #require(PlanFile.load(file).plan)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            try await body(World(plan: plan, history: history))
        }
    }

    @Test func aCopyAnEarlierRunLeftChangedIsRefusedUntilItIsRecovered() async throws {
        try await world { world in
            let first = try await world.leaveTheCopyChanged()
            let (engine, executor) = world.engine()
            await #expect {
                try await engine.rehearse(world.plan, RehearsalRequest(), history: world.history)
            } throws: { error in
                guard let error = error as? EngineError, case .refused(let problems) = error.code else { return false }
                return problems == [.copyLeftApplied(run: first.id, plan: "p", target: "copy", copy: 1, steps: ["a", "b"], approve: false)]
                    && error.message.contains("nothing was run") && error.fix?.contains("rehearse recover \(first.id)") == true
            }
            // Nothing ran, nothing was recorded.
            #expect(executor.started.isEmpty)
            #expect(try await world.history.recentRuns().count == 1)
            // Recovered, the copy is the one the first run found: the next run goes.
            guard case .recovered(_, let still, _) = try await engine.recover(RecoveryRequest(), history: world.history), still.isEmpty else {
                Issue.record("expected a complete recovery")
                return
            }
            #expect(try await engine.rehearse(world.plan, RehearsalRequest(), history: world.history).status == .passed)
        }
    }

    /// What the operator says is done (the copy remade by hand, a rollback done by hand) lets the
    /// next run go, as a recovery does.
    @Test func stepsAssumedDoneFreeTheCopy() async throws {
        try await world { world in
            let first = try await world.leaveTheCopyChanged()
            let (engine, executor) = world.engine()
            var request = RecoveryRequest(runID: first.id)
            request.assumeDone = ["a", "b"]
            _ = try await engine.recover(request, history: world.history)
            #expect(!executor.started.contains { $0.hasPrefix("rollback") })
            #expect(try await engine.rehearse(world.plan, RehearsalRequest(), history: world.history).status == .passed)
        }
    }

    /// A target whose setup makes the copy afresh: the next run goes, says what it replaces, and
    /// `recover` of the earlier run then rolls nothing back against the new copy.
    @Test func aTargetWhoseSetupMakesTheCopyAfreshGoesOnAndRecoverSaysSo() async throws {
        try await world(target: "{ setup: ./make-copy }") { world in
            let first = try await world.leaveTheCopyChanged()
            let (engine, executor) = world.engine()
            let warnings = Mutex<[String]>([])
            let second = try await engine.rehearse(world.plan, RehearsalRequest(), history: world.history,
                                                   warn: { message in warnings.withLock { $0.append(message) } })
            #expect(second.status == .passed)
            #expect(warnings.withLock { $0 }.contains { $0.contains("run \(first.id) (p) left a, b applied on copy 1") && $0.contains("setup makes the copy afresh first") })
            let started = executor.started.count
            guard case .copyRemade(let run, let later) = try await engine.recover(RecoveryRequest(runID: first.id), history: world.history) else {
                Issue.record("expected the copy to be found remade")
                return
            }
            #expect(run.id == first.id && later.id == second.id)
            #expect(executor.started.count == started)
            #expect(try await world.history.run(id: first.id)?.leftApplied == [])
        }
    }

    /// A setup that failed made nothing afresh: the earlier run's leftovers still count, for the
    /// next run and for `recover`. And `recover` looks past the newest run: any later run whose
    /// setup completed remade the copy.
    @Test func onlyASetupThatCompletedRemadeTheCopy() async throws {
        try await world(target: "{ setup: ./make-copy }") { world in
            let first = try await world.leaveTheCopyChanged()
            let failedSetup = try await world.engine(["setup copy": .fail(exit: 3, after: .zero)]).0
                .rehearse(world.plan, RehearsalRequest(), history: world.history)
            #expect(failedSetup.status == .failed)
            let warnings = Mutex<[String]>([])
            let (engine, _) = world.engine()
            let remade = try await engine.rehearse(world.plan, RehearsalRequest(), history: world.history,
                                                   warn: { message in warnings.withLock { $0.append(message) } })
            #expect(warnings.withLock { $0 }.contains { $0.contains("run \(first.id) (p) left a, b applied") }, "the failed setup remade nothing")
            #expect(remade.status == .passed)
            // A later run still (its setup failed): recover of run 1 sees the one that remade it.
            _ = try await world.engine(["setup copy": .fail(exit: 3, after: .zero)]).0.rehearse(world.plan, RehearsalRequest(), history: world.history)
            guard case .copyRemade(_, let by) = try await engine.recover(RecoveryRequest(runID: first.id), history: world.history) else {
                Issue.record("expected the copy to be found remade")
                return
            }
            #expect(by.id == remade.id)
        }
    }

    /// Within one command, a run that left the copy changed stops the runs after it on that copy;
    /// what the copy's leftover was is named, and it is this command's own run.
    @Test func aRepeatedRunStopsWhenItsCopyWasLeftChanged() async throws {
        try await world { world in
            let (engine, _) = world.engine(["rollback b": .fail(exit: 4, after: .zero)])
            let series = await engine.rehearseRepeatedly(world.plan, times: 3, RehearsalRequest(), history: world.history)
            #expect(series.runs.map(\.status) == [.failed])
            guard let fault = series.fault, case .refused(let problems) = fault.code,
                  case .copyLeftApplied(let run, _, _, _, _, _)? = problems.first else {
                Issue.record("expected the series to stop at the changed copy")
                return
            }
            #expect(run == series.runs.first?.id)
        }
    }

    /// A copy is this machine's: what a run of another host left (a CI runner's, merged in with
    /// `history import`, or recorded in a shared history) is on that host's copy, and neither
    /// refuses a run here nor hides what a run here left.
    @Test func anotherHostsLeftoverIsOnAnotherCopy() async throws {
        try await world { world in
            var elsewhere = Run(starting: world.plan, target: "copy",
                                provenance: RunProvenance(host: "ci-runner-3", user: "ci", pid: 4242, toolVersion: "test"), startedAt: Date())
            elsewhere = try await world.history.beginRun(elsewhere)
            try await world.history.activityFinished(run: elsewhere.id, row: nil, ActivityRecord(
                Activity(.forward, "a"), outcome: ProcessOutcome(termination: .exited(0)), startOffset: .zero, duration: .milliseconds(1)))
            elsewhere.status = .failed
            elsewhere.leftApplied = ["a"]
            try await world.history.finishRun(elsewhere)
            #expect(try await world.engine().0.rehearse(world.plan, RehearsalRequest(), history: world.history).status == .passed)
            let mine = try await world.leaveTheCopyChanged()
            var later = Run(starting: world.plan, target: "copy",
                            provenance: RunProvenance(host: "ci-runner-3", user: "ci", pid: 4243, toolVersion: "test"), startedAt: Date())
            later = try await world.history.beginRun(later)
            later.status = .passed
            try await world.history.finishRun(later)
            await #expect {
                try await world.engine().0.rehearse(world.plan, RehearsalRequest(), history: world.history)
            } throws: { error in
                guard let error = error as? EngineError, case .refused(let problems) = error.code,
                      case .copyLeftApplied(let run, _, _, _, _, _)? = problems.first else { return false }
                return run == mine.id
            }
        }
    }

    /// A rollback that "succeeds" but leaves the copy changed (its fingerprint differs, no step
    /// left applied): a retry must not pass from the changed copy. It fails before anything is
    /// applied until the copy is what the broken run started from; then it goes, and its pass
    /// shows the copy clean for the runs after it.
    @Test func aRetryFromACopyABrokenRollbackChangedFailsUntilTheCopyIsRestored() async throws {
        try await TemporaryFolder.with { folder in
            let file = try folder.write("Rehearsals/p.yml", Self.text(target: "{}") + "\nfingerprint: { run: ./digest }\n")
            let plan = try #require(PlanFile.load(file).plan)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            func rehearse(before: String, after: String) async throws -> (Run, ScriptedExecutor) {
                let executor = ScriptedExecutor(clock: clock, script: [
                    "fingerprint-before fingerprint": .print(before, after: .zero),
                    "fingerprint-after fingerprint": .print(after, after: .zero),
                ])
                let run = try await RehearsalEngine(executor: executor, clock: clock, toolVersion: "test").rehearse(plan, RehearsalRequest(), history: history)
                return (run, executor)
            }
            let (broken, _) = try await rehearse(before: "rows 1\n", after: "rows 1\n+col\n")
            #expect(broken.status == .failed && broken.reasons.contains(.fingerprintDiffers) && broken.leftApplied.isEmpty)
            let (retry, executor) = try await rehearse(before: "rows 1\n+col\n", after: "rows 1\n+col\n")
            #expect(retry.status == .failed)
            #expect(retry.reasons == [.copyChangedBefore(run: broken.id)])
            #expect(!executor.started.contains { $0.hasPrefix("forward") })
            // Read back from the history as it was recorded.
            #expect(try await history.run(id: retry.id)?.reasons == [.copyChangedBefore(run: broken.id)])
            // A pass of another plan on the copy (without a fingerprint) shows nothing about it.
            let other = try #require(PlanParser().parse(Self.text(target: "{}"), file: folder.path + "/Rehearsals/q.yml", defaultName: "q").plan)
            #expect(try await RehearsalEngine(executor: ScriptedExecutor(clock: clock), clock: clock).rehearse(other, RehearsalRequest(), history: history).status == .passed)
            #expect(try await rehearse(before: "rows 1\n+col\n", after: "rows 1\n+col\n").0.reasons == [.copyChangedBefore(run: broken.id)])
            // Restored by hand: it goes, and passes; the next compares with nothing more.
            let (restored, _) = try await rehearse(before: "rows 1\n", after: "rows 1\n")
            #expect(restored.status == .passed, "\(restored.reasons)")
            let (next, _) = try await rehearse(before: "rows 2\n", after: "rows 2\n")
            #expect(next.status == .passed, "\(next.reasons)")
        }
    }

    /// A copy rebuilt on purpose (other rows than the broken run started from): the operator's
    /// `--copy-restored` takes it as it is, and that run's pass clears the difference for the next.
    @Test func theOperatorSaysTheCopyIsRestored() async throws {
        try await TemporaryFolder.with { folder in
            let file = try folder.write("Rehearsals/p.yml", Self.text(target: "{}") + "\nfingerprint: { run: ./digest }\n")
            let plan = try #require(PlanFile.load(file).plan)
            let (history, _) = try await HistoryAccess.open(folder.path + "/h.sqlite")
            let clock = ManualClock()
            func rehearse(before: String, after: String, restored: Bool = false) async throws -> Run {
                let executor = ScriptedExecutor(clock: clock, script: [
                    "fingerprint-before fingerprint": .print(before, after: .zero),
                    "fingerprint-after fingerprint": .print(after, after: .zero),
                ])
                var request = RehearsalRequest()
                request.copyRestored = restored
                return try await RehearsalEngine(executor: executor, clock: clock, toolVersion: "test").rehearse(plan, request, history: history)
            }
            let broken = try await rehearse(before: "rows 1\n", after: "rows 1\n+col\n")
            #expect(try await rehearse(before: "rows 9\n", after: "rows 9\n").reasons == [.copyChangedBefore(run: broken.id)])
            let taken = try await rehearse(before: "rows 9\n", after: "rows 9\n", restored: true)
            #expect(taken.status == .passed)
            #expect(try await history.run(id: taken.id)?.modes == ["copy-restored"])
            #expect(try await rehearse(before: "rows 9\n", after: "rows 9\n").status == .passed)
        }
    }

    /// A run whose teardown took its copy down left nothing on the next one's.
    @Test func aCopyTakenDownByItsTeardownIsNoLeftover() async throws {
        try await world(target: "{ teardown: ./drop-copy }") { world in
            let first = try await world.leaveTheCopyChanged()
            #expect(first.activities.contains { $0.kind == .teardown && $0.status == .passed })
            #expect(try await world.engine().0.rehearse(world.plan, RehearsalRequest(), history: world.history).status == .passed)
        }
    }
}

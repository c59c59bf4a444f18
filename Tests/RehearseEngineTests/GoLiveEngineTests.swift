import Foundation
import RehearseCore
import RehearseEngine
import RehearseRunner
import RehearseStore
import RehearseTestSupport
import Testing

/// The go-live in-process: `goLive`, `finishLive` and `rollBackLive` with a scripted executor, a
/// manual clock and a real SQLite history.
@Suite(.timeLimit(.minutes(1))) struct GoLiveEngineTests {
    static let text = """
        strategy: custom
        budget: { rollback: 1s }
        targets:
          copy: { setup: ./provision, teardown: ./remove }
          production: { protected: true, setup: ./provision, teardown: ./remove }
        fingerprint: { run: ./digest, probe: { run: ./probe, undo: ./unprobe } }
        checks:
          smoke: [ { name: v2, run: ./v2 } ]
          restored: [ { name: v1, run: ./v1 } ]
        steps:
          a: { run: ./a, rollback: ./undo-a }
          b: { run: ./b, rollback: ./undo-b, needs: a }
          retire: { run: ./retire, irreversible: true, needs: b }
        """

    static let digest: [String: ScriptedExecutor.Behaviour] = [
        "fingerprint-before fingerprint": .print("state 1\n", after: .milliseconds(5)),
        "fingerprint-before fingerprint with probe": .print("state 2\n", after: .milliseconds(5)),
        "fingerprint-before fingerprint after probe undo": .print("state 1\n", after: .milliseconds(5)),
        "fingerprint-after fingerprint": .print("state 1\n", after: .milliseconds(5)),
    ]

    struct World {
        let plan: Plan
        let history: any HistoryStore
        let clock: ManualClock
        let folder: TemporaryFolder

        /// An engine whose commands behave as `script` says (the fingerprints as a copy's).
        func engine(_ script: [String: ScriptedExecutor.Behaviour] = [:], control: RunControl? = nil) -> (RehearsalEngine, ScriptedExecutor) {
            let executor = ScriptedExecutor(clock: clock, script: GoLiveEngineTests.digest.merging(script) { $1 }, control: control)
            return (RehearsalEngine(executor: executor, clock: clock, toolVersion: "test"), executor)
        }

        /// A passing rehearsal on the copy: what the gate needs.
        func rehearse() async throws {
            let run = try await engine().0.rehearse(plan, RehearsalRequest(), history: history)
            #expect(run.status == .passed, "\(run.reasons)")
        }

        func goLive(_ script: [String: ScriptedExecutor.Behaviour] = [:], watch: RehearsalOptions.Watch? = nil,
                    control: RunControl = RunControl()) async throws -> (GoLiveOutcome, ScriptedExecutor) {
            let (engine, executor) = engine(script, control: control)
            let request = GoLiveRequest(target: "production", approve: "production", watch: watch)
            return (try await engine.goLive(plan, request, history: history, control: control), executor)
        }
    }

    func world(_ body: (World) async throws -> Void) async throws {
        try await TemporaryFolder.with { folder in
            let file = try folder.write("Rehearsals/p.yml", Self.text)
            let plan = try #require(PlanFile.load(file).plan)
            let (history, _) = try await HistoryAccess.open(folder.path + "/.rehearse/history.sqlite")
            try await body(World(plan: plan, history: history, clock: ManualClock(), folder: folder))
        }
    }

    func ran(_ outcome: GoLiveOutcome) throws -> Run {
        guard case .ran(let run, _) = outcome else {
            Issue.record("expected a live run, got \(outcome)")
            throw CancellationError()
        }
        return run
    }

    @Test func goRunsNothingWithoutAnApprovalOrAGo() async throws {
        try await world { world in
            let (engine, executor) = world.engine()
            let unapproved = try await engine.goLive(world.plan, GoLiveRequest(target: "production", approve: nil), history: world.history)
            guard case .refused(.liveNeedsApproval(_, "production")) = unapproved else { Issue.record("\(unapproved)"); return }
            let wrong = try await engine.goLive(world.plan, GoLiveRequest(target: "production", approve: "copy"), history: world.history)
            guard case .refused(.liveNeedsApproval) = wrong else { Issue.record("\(wrong)"); return }
            let unrehearsed = try await engine.goLive(world.plan, GoLiveRequest(target: "production", approve: "production"), history: world.history)
            guard case .noGo(let decision) = unrehearsed, case .neverRehearsed = decision.reason else { Issue.record("\(unrehearsed)"); return }
            #expect(executor.started.isEmpty)
            #expect(try await world.history.recentRuns().isEmpty)
        }
    }

    @Test func goAppliesUpToThePointOfNoReturnAndRecordsTheApproval() async throws {
        try await world { world in
            try await world.rehearse()
            let (outcome, executor) = try await world.goLive()
            let run = try ran(outcome)
            #expect(run.status == .applied)
            #expect(run.kind == .live)
            #expect(run.target == "production")
            #expect(run.approval?.target == "production")
            #expect(run.evidence == "run 1")
            #expect(run.evidenceRun == 1)
            #expect(run.trigger == nil)
            #expect(run.rollback == nil)
            // No setup, teardown, probe on a live target; nothing beyond the point of no return; no rollback.
            #expect(executor.started == ["fingerprint-before fingerprint", "forward a", "forward b", "smoke v2"])
            #expect(run.fingerprintBefore == "state 1\n")
            let recorded = try #require(try await world.history.run(id: run.id))
            #expect(recorded.kind == .live)
            #expect(recorded.approval == run.approval)
            #expect(recorded.evidenceRun == 1)
            #expect(recorded.status == .applied)
            // A live run is no rehearsal: the gate still rests on run 1 alone.
            let runs = try await world.history.runs(plan: "p", target: "production")
            #expect(!GateDecision.decide(hash: run.planHash, text: run.planText, runs: runs, target: "production",
                                         now: world.clock.date, within: .seconds(3600)).isGo)
        }
    }

    @Test func aFailingSmokeCheckRollsTheLiveTargetBackTimedFromTheTrigger() async throws {
        try await world { world in
            try await world.rehearse()
            let (outcome, executor) = try await world.goLive(["smoke v2": .fail(exit: 1, after: .milliseconds(20)),
                                                              "rollback b": .pass(after: .milliseconds(100))])
            let run = try ran(outcome)
            #expect(run.status == .rolledBack)
            #expect(run.trigger?.reason == .smokeFailed(check: "v2"))
            #expect(run.reasons == [.checkFailed(phase: .smoke, check: "v2", how: "exit 1")])
            #expect(executor.started.suffix(4) == ["rollback b", "rollback a", "restored v1", "fingerprint-after fingerprint"])
            // From the trigger to the end of the restored check: 100 + 10 + 10 ms.
            #expect(run.rollback == .milliseconds(120))
            #expect(run.leftApplied.isEmpty)
        }
    }

    @Test func aLiveFingerprintThatDiffersIsRecordedButNeverFailsTheRun() async throws {
        try await world { world in
            try await world.rehearse()
            let (outcome, _) = try await world.goLive(["smoke v2": .fail(exit: 1, after: .zero),
                                                       "fingerprint-after fingerprint": .print("live data moved on\n", after: .zero)])
            let run = try ran(outcome)
            #expect(run.status == .rolledBack)
            #expect(run.fingerprintAfter == "live data moved on\n")
            #expect(!run.reasons.contains(.fingerprintDiffers))
            #expect(run.fingerprintComparison == nil)
        }
    }

    @Test func aSlowLiveRollbackIsOverBudgetAndAFailedOneIsNamed() async throws {
        try await world { world in
            try await world.rehearse()
            let slow = try ran(try await world.goLive(["smoke v2": .fail(exit: 1, after: .zero), "rollback a": .pass(after: .seconds(2))]).0)
            #expect(slow.status == .overBudget)
            #expect(slow.rollback! > slow.budget)
            let unhealthy = try ran(try await world.goLive(["smoke v2": .fail(exit: 1, after: .zero), "restored v1": .fail(exit: 1, after: .zero)]).0)
            #expect(unhealthy.status == .failed)
            let broken = try ran(try await world.goLive(["forward b": .fail(exit: 3, after: .zero), "rollback b": .fail(exit: 5, after: .zero)]).0)
            #expect(broken.status == .failed)
            #expect(broken.trigger?.reason == .stepFailed(step: "b"))
            #expect(broken.reasons.contains(.rollbackFailed(step: "b", how: "exit 5")))
            #expect(broken.reasons.contains(.rollbackBlocked(step: "a")))
            #expect(broken.leftApplied == ["a", "b"])
            // Production is left changed: no go-live starts on it until that is rolled back.
            await #expect {
                try await world.goLive()
            } throws: { error in
                guard let error = error as? EngineError, case .refused(let problems) = error.code else { return false }
                return problems == [.copyLeftApplied(run: broken.id, plan: "p", target: "production", copy: nil, steps: ["a", "b"], approve: true)]
                    && error.message.hasPrefix("target 'production' still has what run \(broken.id) (p) left applied: a, b")
                    && error.fix?.hasPrefix("roll it back first: rehearse recover \(broken.id) --approve production") == true
            }
            #expect(try await world.history.recentRuns().first?.id == broken.id)
        }
    }

    @Test func theWatchRunsTheSmokeChecksAgainAndRollsBackWhenOneFails() async throws {
        try await world { world in
            try await world.rehearse()
            let watch = RehearsalOptions.Watch(duration: .seconds(90), every: .seconds(30))
            let (healthy, executor) = try await world.goLive(watch: watch)
            let applied = try ran(healthy)
            #expect(applied.status == .applied)
            #expect(executor.started.filter { $0.hasPrefix("smoke") } == ["smoke v2", "smoke v2 (watch 1/3)", "smoke v2 (watch 2/3)", "smoke v2 (watch 3/3)"])
            // Applied, it holds production: no other go-live runs on top of it until it is finished
            // or rolled back (a second one used to apply again, and its rollback undid the first's).
            await #expect {
                try await world.goLive()
            } throws: { error in
                guard let error = error as? EngineError, case .refused(let problems) = error.code else { return false }
                return problems == [.liveRunInProgress(run: applied.id, plan: "p", target: "production")]
                    && error.fix?.contains("rehearse go --finish \(applied.id) --approve production") == true
            }
            _ = try await world.engine().0.rollBackLive(applied.id, approve: "production", history: world.history)
            let (failing, _) = try await world.goLive(["smoke v2 (watch 2/3)": .fail(exit: 1, after: .zero)], watch: watch)
            let run = try ran(failing)
            #expect(run.status == .rolledBack)
            #expect(run.trigger?.reason == .watchFailed(check: "v2"))
            #expect(run.activities(.smoke).map(\.name) == ["v2", "v2 (watch 1/3)", "v2 (watch 2/3)"])
            #expect(run.stillApplied.isEmpty)
        }
    }

    @Test func aSignalDuringTheLiveForwardStepsRollsBack() async throws {
        try await world { world in
            try await world.rehearse()
            let control = RunControl()
            let run = try ran(try await world.goLive(["forward b": .signal(SIGINT, then: .pass(after: .milliseconds(5)))], control: control).0)
            #expect(run.status == .interrupted)
            #expect(run.trigger?.reason == .interrupted(signal: SIGINT))
            #expect(run.activities(.rollback).map(\.status) == [.passed, .passed])
        }
    }

    @Test func finishRunsTheIrreversibleStepsOnceAndRollbackIsThenRefused() async throws {
        try await world { world in
            try await world.rehearse()
            let live = try ran(try await world.goLive().0)
            let (engine, executor) = world.engine()
            let unapproved = try await engine.finishLive(live.id, approve: nil, history: world.history)
            guard case .refused(.liveNeedsApproval) = unapproved else { Issue.record("\(unapproved)"); return }
            let finished = try await engine.finishLive(live.id, approve: "production", history: world.history)
            guard case .done(let run) = finished else { Issue.record("\(finished)"); return }
            #expect(run.status == .completed)
            #expect(executor.started == ["forward retire", "smoke v2 (after finish)"])
            let recorded = try #require(try await world.history.run(id: live.id))
            #expect(recorded.status == .completed)
            #expect(recorded.activities(.forward).map(\.name) == ["a", "b", "retire"])
            let again = try await engine.finishLive(live.id, approve: "production", history: world.history)
            guard case .refused(.pastPointOfNoReturn) = again else { Issue.record("\(again)"); return }
            let back = try await engine.rollBackLive(live.id, approve: "production", history: world.history)
            guard case .refused(.pastPointOfNoReturn) = back else { Issue.record("\(back)"); return }
            let recovered = try await engine.recover(RecoveryRequest(runID: live.id, approve: "production"), history: world.history)
            guard case .refused(.pastPointOfNoReturn) = recovered else { Issue.record("\(recovered)"); return }
        }
    }

    @Test func aFailingIrreversibleStepFailsTheFinishAndStopsWhatComesAfter() async throws {
        try await world { world in
            try await world.rehearse()
            let live = try ran(try await world.goLive().0)
            let (engine, executor) = world.engine(["forward retire": .fail(exit: 9, after: .zero)])
            let finished = try await engine.finishLive(live.id, approve: "production", history: world.history)
            guard case .done(let run) = finished else { Issue.record("\(finished)"); return }
            #expect(run.status == .failed)
            #expect(run.reasons == [.stepFailed(step: "retire", how: "exit 9")])
            #expect(executor.started == ["forward retire"])
            // Past its point of no return, even failed there: `recover` does not roll back what
            // came before (what cannot be undone would be left standing on it).
            let (recovery, recoverer) = world.engine()
            let recovered = try await recovery.recover(RecoveryRequest(runID: run.id, approve: "production"), history: world.history)
            guard case .refused(.pastPointOfNoReturn(run: run.id)) = recovered else {
                Issue.record("\(recovered)")
                return
            }
            #expect(recoverer.started.isEmpty)
        }
    }

    @Test func theOperatorRollsALiveRunBackTimedAndRecorded() async throws {
        try await world { world in
            try await world.rehearse()
            let live = try ran(try await world.goLive().0)
            let (engine, executor) = world.engine(["rollback a": .pass(after: .milliseconds(40))])
            // recover leaves a healthy go-live alone: undoing it is the operator's decision.
            let recovered = try await engine.recover(RecoveryRequest(runID: live.id, approve: "production"), history: world.history)
            guard case .refused(.liveRunIsApplied) = recovered else { Issue.record("\(recovered)"); return }
            let rehearsal = try await engine.rollBackLive(1, approve: "copy", history: world.history)
            guard case .refused(.notALiveRun(1)) = rehearsal else { Issue.record("\(rehearsal)"); return }
            world.clock.advance(by: .seconds(60))
            let outcome = try await engine.rollBackLive(live.id, approve: "production", history: world.history)
            guard case .done(let run) = outcome else { Issue.record("\(outcome)"); return }
            #expect(run.status == .rolledBack)
            #expect(run.trigger?.reason == .operatorDecision)
            #expect(run.rollback == .milliseconds(60))
            #expect(executor.started == ["rollback b", "rollback a", "restored v1", "fingerprint-after fingerprint after the rollback"])
            let recorded = try #require(try await world.history.run(id: live.id))
            #expect(recorded.status == .rolledBack)
            #expect(recorded.trigger?.reason == .operatorDecision)
            #expect(recorded.rollback == .milliseconds(60))
            #expect(recorded.stillApplied.isEmpty)
            let again = try await engine.rollBackLive(live.id, approve: "production", history: world.history)
            guard case .refused(.liveRunNotApplied(_, .rolledBack)) = again else { Issue.record("\(again)"); return }
        }
    }

    /// Opening a history never stops the processes of a live run, or of a run on a protected
    /// target, that a killed harness left: what those steps started may be the service itself.
    @Test func openingAHistoryLeavesTheProcessesOfALiveRunAlone() async throws {
        try await world { world in
            let dead = RunProvenance(host: ProcessInfo.processInfo.hostName, user: "ops", pid: 999_999, toolVersion: "test")
            var live = Run(starting: world.plan, target: "production", provenance: dead, startedAt: world.clock.date, processMark: "live-mark")
            live.kind = .live
            _ = try await world.history.beginRun(live)
            let rehearsal = Run(starting: world.plan, target: "copy", provenance: dead, startedAt: world.clock.date, processMark: "copy-mark")
            _ = try await world.history.beginRun(rehearsal)
            // A rehearsal approved on the protected target: its strays are recover --approve's.
            let protected = Run(starting: world.plan, target: "production", provenance: dead, startedAt: world.clock.date, processMark: "prod-mark")
            _ = try await world.history.beginRun(protected)
            let executor = ScriptedExecutor(clock: world.clock, leftovers: ["sleep 100"])
            let (_, reaped) = try await HistoryAccess.open(world.history.location, executor: executor)
            #expect(reaped.map(\.run) == [1, 2, 3])
            #expect(reaped.map(\.stoppedProcesses) == [0, 1, 0])
        }
    }
}

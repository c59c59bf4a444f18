import Foundation
import RehearseCore
@testable import RehearseRunner
import RehearseTestSupport
import Testing

/// A step's `stop:` hook, in-process: when it runs, what it is told, how it is recorded and timed.
@Suite(.timeLimit(.minutes(1))) struct StopHookTests {
    /// `migrate` has a stop hook; `other` runs beside it; `later` needs `other`.
    static let text = """
        strategy: custom
        budget: { rollback: 10s }
        targets: { copy: {} }
        steps:
          migrate: { run: ./migrate, rollback: ./down, stop: ./cancel-queries }
          other: { run: ./other, rollback: ./undo-other }
          later: { run: ./later, rollback: ./undo-later, needs: other }
        """

    func plan() throws -> Plan {
        let result = PlanParser().parse(Self.text, file: "/virtual/Rehearsals/p.yml", defaultName: "p")
        return try #require(result.plan, "\(result.diagnostics)")
    }

    func rehearse(_ executor: ScriptedExecutor, clock: ManualClock, control: RunControl? = nil, jobs: Int = 1, cut: Cut? = nil) async throws -> Run {
        let options = RehearsalOptions(runID: "7", target: "copy", jobs: jobs, cut: cut, logsFolder: "/nonexistent", processMark: "mark")
        return await Rehearsal(plan: try plan(), options: options, observer: ObserverGroup([]), control: control ?? RunControl(clock: clock),
                               executor: executor, clock: clock).run()
    }

    @Test func theParserReadsTheHook() throws {
        #expect(try plan().step(withID: "migrate")?.stop == "./cancel-queries")
        #expect(try plan().step(withID: "other")?.stop == nil)
        let broken = PlanParser().parse("""
            strategy: custom
            targets: { copy: {} }
            steps:
              a: { run: ./a, rollback: ./b, stop: [x] }
              c: { run: ./c, rollback: ./d, stop: '' }
            """, file: "p.yml", defaultName: "p")
        #expect(broken.plan == nil)
        let errors = broken.diagnostics.filter { $0.severity == .error }.map { "\($0.location.line):\($0.location.column) \($0.message)" }
        #expect(errors.count == 2)
        #expect(errors.contains { $0.hasPrefix("4:") && $0.contains("'stop' of step 'a'") })
        #expect(errors.contains { $0.hasPrefix("5:") && $0.contains("'stop' of step 'c'") })
    }

    @Test func aStepThatEndsOnItsOwnNeverRunsItsHook() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        let run = try await rehearse(executor, clock: clock)
        #expect(run.status == .passed)
        #expect(!executor.started.contains { $0.hasPrefix("stop ") })
    }

    @Test func aTimeoutRunsTheHookBeforeTheStepCountsAsStopped() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward migrate": .timeOut(after: .seconds(2))])
        let run = try await rehearse(executor, clock: clock)
        #expect(executor.started.prefix(2) == ["forward migrate", "stop migrate"])
        let environment = try #require(executor.environment(of: "stop migrate"))
        #expect(environment["REHEARSE_STOP_REASON"] == "timeout")
        #expect(environment["REHEARSE_STEP"] == "migrate")
        #expect(environment["REHEARSE_PHASE"] == "forward")
        #expect(environment["REHEARSE_RUN_ID"] == "7")
        // Recorded in the run, between the step's start and its end.
        let hook = try #require(run.activities.first { $0.kind == .stop })
        #expect(hook.name == "migrate")
        #expect(hook.status == .passed)
        let step = try #require(run.activities.first { $0.activity == Activity(.forward, "migrate") })
        #expect(step.status == .timedOut)
        #expect(try #require(hook.startOffset) >= (step.startOffset ?? .zero))
        #expect(try #require(hook.endOffset) <= (step.endOffset ?? .zero))
        // The step timed out: that fails the run; the hook did its job.
        #expect(run.reasons == [.stepFailed(step: "migrate", how: "timed out")])
    }

    /// Stopped after the trigger (another step failed): the hook's time is the rollback's.
    @Test func aStepStoppedByTheTriggerRunsItsHookInsideTheRollbackTime() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: [
            "forward migrate": .hang,
            "forward other": .fail(exit: 1, after: .milliseconds(5)),
            "stop migrate": .pass(after: .milliseconds(700)),
        ])
        let run = try await rehearse(executor, clock: clock, jobs: 2)
        #expect(executor.environment(of: "stop migrate")?["REHEARSE_STOP_REASON"] == "step-failed")
        #expect(executor.stopped == ["forward migrate"])
        let trigger = try #require(run.trigger)
        #expect(trigger.reason == .stepFailed(step: "other"))
        let hook = try #require(run.activities.first { $0.kind == .stop })
        #expect(try #require(hook.startOffset) >= trigger.offset)
        #expect(try #require(run.rollback) >= .milliseconds(700))
        // The hook ran before the rollback of the step it stopped.
        let order = executor.started
        #expect(try #require(order.firstIndex(of: "stop migrate")) < (order.firstIndex(of: "rollback migrate") ?? -1))
    }

    @Test func aSignalTellsTheHookItWasAnInterruption() async throws {
        let clock = ManualClock()
        let control = RunControl(clock: clock)
        let executor = ScriptedExecutor(clock: clock, script: ["forward migrate": .signal(SIGINT, then: .hang)], control: control)
        let run = try await rehearse(executor, clock: clock, control: control)
        #expect(executor.environment(of: "stop migrate")?["REHEARSE_STOP_REASON"] == "interrupted")
        #expect(run.status == .interrupted)
        #expect(run.activities.contains { $0.kind == .stop && $0.status == .passed })
    }

    @Test func aCutThatStopsTheStepSaysCut() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward migrate": .hang])
        let run = try await rehearse(executor, clock: clock, jobs: 2, cut: .before("later"))
        #expect(run.trigger?.reason == .cutBefore(step: "later"))
        #expect(executor.environment(of: "stop migrate")?["REHEARSE_STOP_REASON"] == "cut")
    }

    /// A `--fail-at` step that fails on its own is a step failure, not the cut.
    @Test func aFailAtStepThatFailsOnItsOwnIsNoCut() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward migrate": .hang, "forward other": .fail(exit: 1, after: .milliseconds(5))])
        _ = try await rehearse(executor, clock: clock, jobs: 2, cut: .failAt("other"))
        #expect(executor.environment(of: "stop migrate")?["REHEARSE_STOP_REASON"] == "step-failed")
    }

    @Test func aFailAtStepThatPassesIsTheCut() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward migrate": .hang])
        _ = try await rehearse(executor, clock: clock, jobs: 2, cut: .failAt("other"))
        #expect(executor.environment(of: "stop migrate")?["REHEARSE_STOP_REASON"] == "cut")
    }

    @Test func stopNoneIsNoHook() throws {
        let result = PlanParser().parse("""
            strategy: custom
            targets: { copy: {} }
            steps:
              a: { run: ./a, rollback: ./b, stop: none }
            """, file: "p.yml", defaultName: "p")
        #expect(try #require(result.plan).step(withID: "a")?.stop == nil)
    }

    @Test func aRollbackStoppedByItsTimeoutRunsTheHookInTheRollbackPhase() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["rollback migrate": .timeOut(after: .seconds(1))])
        let run = try await rehearse(executor, clock: clock)
        let environment = try #require(executor.environment(of: "stop migrate"))
        #expect(environment["REHEARSE_PHASE"] == "rollback")
        #expect(environment["REHEARSE_STOP_REASON"] == "timeout")
        #expect(run.reasons.contains(.rollbackFailed(step: "migrate", how: "timed out")))
    }

    /// A hook that fails leaves the server's work running, maybe: the rehearsal says so.
    @Test func aHookThatFailsFailsTheRun() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: [
            "forward migrate": .hang,
            "forward other": .fail(exit: 1, after: .milliseconds(5)),
            "stop migrate": .fail(exit: 2, after: .milliseconds(5)),
        ])
        let run = try await rehearse(executor, clock: clock, jobs: 2)
        #expect(run.status == .failed)
        #expect(run.reasons.contains(.stopHookFailed(step: "migrate", how: "exit 2")))
        #expect(RunReason.stopHookFailed(step: "migrate", how: "exit 2").description.contains("may still be running"))
    }

    @Test func theHookFailureReasonKeepsItsCodeThroughJSON() throws {
        let reason = RunReason.stopHookFailed(step: "migrate", how: "timed out")
        let data = try JSONEncoder().encode(reason)
        #expect(String(decoding: data, as: UTF8.self).contains("\"stop-hook-failed\""))
        #expect(try JSONDecoder().decode(RunReason.self, from: data) == reason)
    }
}

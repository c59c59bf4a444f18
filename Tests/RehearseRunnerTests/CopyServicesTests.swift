import Foundation
import RehearseCore
@testable import RehearseRunner
import RehearseTestSupport
import Testing

/// What a target's setup starts belongs to the copy: its commands carry the copy's token and
/// cgroup, not the run's, and what is left at the end is named, not stopped.
@Suite(.timeLimit(.minutes(1))) struct CopyServicesTests {
    func rehearse(_ text: String, _ executor: ScriptedExecutor, clock: ManualClock) async throws -> Run {
        let result = PlanParser().parse(text, file: "/virtual/Rehearsals/p.yml", defaultName: "p")
        let plan = try #require(result.plan, "\(result.diagnostics)")
        let options = RehearsalOptions(runID: "7", target: "copy", logsFolder: "/nonexistent", processMark: "mark")
        return await Rehearsal(plan: plan, options: options, observer: ObserverGroup([]), executor: executor, clock: clock).run()
    }

    static let withSetup = """
        strategy: custom
        targets: { copy: { setup: ./start-db, teardown: ./stop-db } }
        steps:
          a: { run: ./a, rollback: ./undo-a }
        """

    @Test func setupAndTeardownCarryTheCopysTokenAndStepsTheRuns() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, copyServices: ["postgres -D /tmp/copy"])
        let run = try await rehearse(Self.withSetup, executor, clock: clock)
        #expect(executor.environment(of: "setup copy")?["REHEARSE_RUN_TOKEN"] == "mark-copy")
        #expect(executor.environment(of: "teardown copy")?["REHEARSE_RUN_TOKEN"] == "mark-copy")
        #expect(executor.cgroupToken(of: "setup copy") == "mark-copy")
        #expect(executor.environment(of: "forward a")?["REHEARSE_RUN_TOKEN"] == "mark")
        // Otherwise the same environment as every command: the target, the plan, the copy, the run.
        var setup = try #require(executor.environment(of: "setup copy"))
        var step = try #require(executor.environment(of: "forward a"))
        for name in ["REHEARSE_RUN_TOKEN", "REHEARSE_PHASE", "REHEARSE_STEP"] {
            setup[name] = nil
            step[name] = nil
        }
        #expect(setup == step)
        #expect(setup["REHEARSE_TARGET"] == "copy" && setup["REHEARSE_PLAN"] == "p")
        #expect(executor.cgroupToken(of: "forward a") == "mark")
        // Strays are looked for by the run's mark; the copy's services by the copy's, and kept.
        #expect(executor.strayMarks == ["mark"])
        #expect(executor.copyMarks == ["mark-copy"])
        #expect(run.copyServices == ["postgres -D /tmp/copy"])
        #expect(run.status == .passed)
    }

    @Test func withoutASetupNothingIsLookedForAsTheCopys() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, copyServices: ["should not be asked"])
        let run = try await rehearse("""
            strategy: custom
            targets: { copy: {} }
            steps:
              a: { run: ./a, rollback: ./undo-a }
            """, executor, clock: clock)
        #expect(executor.copyMarks.isEmpty)
        #expect(run.copyServices.isEmpty)
    }
}

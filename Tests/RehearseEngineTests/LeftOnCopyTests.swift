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
                return problems == [.copyLeftApplied(run: first.id, plan: "p", target: "copy", copy: 1, steps: ["a", "b"])]
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
            #expect(warnings.withLock { $0 }.contains { $0.contains("run \(first.id) (p) left a, b applied on copy 1") && $0.contains("setup makes the copy afresh") })
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

    /// A run whose teardown took its copy down left nothing on the next one's.
    @Test func aCopyTakenDownByItsTeardownIsNoLeftover() async throws {
        try await world(target: "{ teardown: ./drop-copy }") { world in
            let first = try await world.leaveTheCopyChanged()
            #expect(first.activities.contains { $0.kind == .teardown && $0.status == .passed })
            #expect(try await world.engine().0.rehearse(world.plan, RehearsalRequest(), history: world.history).status == .passed)
        }
    }
}

import RehearseCore
import Testing

@Suite struct StrategyTests {
    @Test func theFourStrategiesAndCustomAreKnown() {
        #expect(Strategy.all.map(\.id) == ["blue-green", "in-place", "dual-write", "cut-and-fill", "custom"])
        #expect(Strategy.named("blue-green") == .blueGreen)
        #expect(Strategy.named("canary") == nil)
        #expect(Strategy.custom.slots.isEmpty)
    }

    @Test(arguments: [Strategy.blueGreen, .inPlace, .dualWrite, .cutAndFill])
    func everyStrategyIsWellFormed(strategy: Strategy) {
        let roles = strategy.slots.map(\.role)
        #expect(Set(roles).count == roles.count, "slot names repeat")
        #expect(strategy.slots.contains { $0.isRequired })
        #expect(strategy.slots.contains { $0.reversal == .required })
        // A point of no return is never required and comes last: nothing reversible follows it.
        for (index, slot) in strategy.slots.enumerated() where slot.reversal == .pointOfNoReturn {
            #expect(!slot.isRequired)
            #expect(index == strategy.slots.count - 1)
        }
        for slot in strategy.slots {
            #expect(!slot.forward.isEmpty)
            #expect(slot.reversal == .pointOfNoReturn || !slot.rollback.isEmpty)
        }
    }

    @Test func shapesMatchWhatOperatorsExpect() {
        #expect(Strategy.blueGreen.slots.map(\.role) == ["deploy-idle", "verify-idle", "switch", "retire-old"])
        #expect(Strategy.inPlace.slots.map(\.role) == ["backup", "stop", "deploy", "migrate", "start", "contract"])
        #expect(Strategy.dualWrite.slots.map(\.role) == ["add-store", "enable-dual-writes", "backfill", "verify-parity", "switch-reads", "stop-old-writes"])
        #expect(Strategy.cutAndFill.slots.map(\.role) == ["freeze-writes", "snapshot", "cut", "fill", "switch", "unfreeze", "retire-old"])
    }

    @Test(arguments: Strategy.all)
    func initTemplatePassesCheck(strategy: Strategy) throws {
        let text = PlanTemplate.text(strategy: strategy, name: "checkout")
        let result = PlanParser().parse(text, file: "Rehearsals/checkout.yml", defaultName: "checkout")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let plan = try #require(result.plan)
        #expect(plan.name == "checkout")
        #expect(plan.strategy == strategy)
        if !strategy.slots.isEmpty {
            // One step per slot, each filling it, chained in the strategy's order.
            #expect(plan.steps.map(\.role) == strategy.slots.map(\.role))
            let analysis = PlanAnalysis(plan: plan)
            #expect(analysis.slots.allSatisfy { $0.stepID != nil })
            let rehearsed = strategy.slots.filter { $0.reversal != .pointOfNoReturn }.map(\.role)
            #expect(analysis.forwardGroups == rehearsed.map { [$0] })
        }
        // Placeholders fail loudly until replaced.
        for step in plan.steps {
            #expect(step.run.contains("TODO") && step.run.hasSuffix("exit 1"))
            if let rollback = step.rollbackCommand { #expect(rollback.hasSuffix("exit 1")) }
        }
        for check in plan.checks.preflight + plan.checks.smoke + plan.checks.restored {
            #expect(check.command.run.hasSuffix("exit 1"))
        }
        #expect(plan.target(named: "production")?.isProtected == true)
    }
}

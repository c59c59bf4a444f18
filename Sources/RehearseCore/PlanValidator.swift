/// The checks that need the whole plan: the step graph and the strategy's slots.
///
/// ``PlanParser`` runs it on every plan; it is public so that plans built in code can be checked too.
public struct PlanValidator: Sendable {
    public init() {}

    public func validate(_ plan: Plan) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let graph = plan.graph
        diagnostics += unknownNeeds(plan, graph: graph)
        let cycles = cycleDiagnostics(graph)
        diagnostics += cycles
        if cycles.isEmpty {
            diagnostics += slotDiagnostics(plan, graph: graph)
        }
        if !plan.targets.isEmpty, plan.target(named: "copy") == nil {
            diagnostics.append(.warning(
                at: plan.targets[0].location,
                "the plan has no 'copy' target, the one 'rehearse' uses when no --target is given",
                fix: "add a 'copy' target, or always pass --target"))
        }
        return diagnostics
    }

    private func unknownNeeds(_ plan: Plan, graph: StepGraph) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let ids = plan.steps.map(\.id)
        for step in plan.steps {
            for (need, location) in zip(step.needs, step.needsLocations) where graph.index(of: need) == nil {
                let suggestion = Suggestion.closest(to: need, in: ids)
                diagnostics.append(.error(
                    at: location,
                    "step '\(step.id)' needs '\(need)', which is not a step of this plan" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""),
                    fix: suggestion.map { "change it to '\($0)'" } ?? "name one of the steps under 'steps:', or remove it"))
            }
        }
        return diagnostics
    }

    private func cycleDiagnostics(_ graph: StepGraph) -> [Diagnostic] {
        graph.cycles().map { cycle in
            let names = graph.ids(cycle + [cycle[0]])
            let first = graph.steps[cycle[0]]
            let closing = cycle.count > 1 ? graph.steps[cycle[1]].id : first.id
            let location = zip(first.needs, first.needsLocations).first { $0.0 == closing }?.1 ?? first.location
            return .error(
                at: location, "dependency cycle: " + names.joined(separator: " -> "),
                fix: "a step cannot need itself, even through other steps: remove one of these 'needs'")
        }
    }

    // MARK: - Strategy slots

    private func slotDiagnostics(_ plan: Plan, graph: StepGraph) -> [Diagnostic] {
        let strategy = plan.strategy
        guard !strategy.slots.isEmpty else { return [] }
        var diagnostics: [Diagnostic] = []
        let roles = strategy.slots.map(\.role)
        var filledBy: [String: Int] = [:]

        for (index, step) in plan.steps.enumerated() {
            guard let role = step.role else { continue }
            let location = step.roleLocation ?? step.location
            guard let slot = strategy.slot(role) else {
                let suggestion = Suggestion.closest(to: role, in: roles)
                diagnostics.append(.error(
                    at: location,
                    "'\(role)' is not a slot of the \(strategy.id) strategy" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""),
                    fix: "use one of \(roles.joinedAsChoices()), or remove 'role' (steps without a role are allowed)"))
                continue
            }
            if let first = filledBy[role] {
                diagnostics.append(.error(
                    at: location,
                    "slot '\(role)' is already filled by step '\(plan.steps[first].id)'",
                    fix: "a slot takes one step: remove this 'role', or merge the two steps"))
                continue
            }
            filledBy[role] = index
            diagnostics += reversalDiagnostics(step, slot: slot, strategy: strategy, at: location)
        }

        for slot in strategy.slots where slot.isRequired && filledBy[slot.role] == nil {
            diagnostics.append(.error(
                at: plan.strategyLocation,
                "the \(strategy.id) strategy needs a step in slot '\(slot.role)' (\(slot.forward)), and no step has 'role: \(slot.role)'",
                fix: "add 'role: \(slot.role)' to the step that does it, or use 'strategy: custom'"))
        }

        // Each filled slot must come after the filled slot before it: depend on it, directly or not.
        let filled = strategy.slots.compactMap { slot in filledBy[slot.role].map { (slot: slot, step: $0) } }
        for (earlier, later) in zip(filled, filled.dropFirst()) {
            guard !graph.ancestors(of: [later.step]).contains(earlier.step) else { continue }
            let step = plan.steps[later.step]
            let runsFirst = graph.ancestors(of: [earlier.step]).contains(later.step)
            diagnostics.append(.error(
                at: step.roleLocation ?? step.location,
                "slot '\(later.slot.role)' (step '\(step.id)') " + (runsFirst ? "runs before" : "may run before or alongside")
                    + " slot '\(earlier.slot.role)' (step '\(plan.steps[earlier.step].id)'); the \(strategy.id) strategy puts '\(earlier.slot.role)' first",
                fix: runsFirst
                    ? "reorder the steps' 'needs' so that '\(step.id)' comes after '\(plan.steps[earlier.step].id)'"
                    : "add '\(plan.steps[earlier.step].id)' to the 'needs' of '\(step.id)' (directly or through another step)"))
        }
        return diagnostics
    }

    private func reversalDiagnostics(_ step: Step, slot: Strategy.Slot, strategy: Strategy, at location: SourceLocation) -> [Diagnostic] {
        switch (slot.reversal, step.undo) {
        case (.required, .notNeeded), (.required, .irreversible):
            return [.error(
                at: location,
                "slot '\(slot.role)' of the \(strategy.id) strategy must be undone (\(slot.rollback)), but step '\(step.id)' has " + (step.isIrreversible ? "'irreversible: true'" : "'rollback: none'"),
                fix: "give step '\(step.id)' a 'rollback' command")]
        case (.optional, .irreversible):
            return [.error(
                at: location,
                "slot '\(slot.role)' of the \(strategy.id) strategy comes before the point of no return, but step '\(step.id)' is irreversible",
                fix: "give it a 'rollback' command or 'rollback: none'")]
        case (.pointOfNoReturn, .command), (.pointOfNoReturn, .notNeeded):
            return [.error(
                at: location,
                "slot '\(slot.role)' of the \(strategy.id) strategy is a point of no return (\(slot.forward)), but step '\(step.id)' is not marked irreversible",
                fix: "replace its 'rollback' with 'irreversible: true', so that rehearsals never run it")]
        default:
            return []
        }
    }
}

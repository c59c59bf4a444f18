/// What a rehearsal of a plan would do, worked out without running anything: the answer
/// `rehearse check` gives.
public struct PlanAnalysis: Sendable {
    /// A strategy slot and the step that fills it, if any.
    public struct SlotFill: Sendable, Hashable {
        public var slot: Strategy.Slot
        public var stepID: String?
    }

    /// A step a rehearsal never runs, and why.
    public struct Unrehearsed: Sendable, Hashable {
        public var stepID: String
        /// The irreversible step that puts it beyond the point of no return (itself when irreversible).
        public var because: String
    }

    public var plan: Plan
    public var slots: [SlotFill]
    /// Rehearsed steps in forward order, grouped: steps in one group may run in parallel.
    public var forwardGroups: [[String]]
    /// Rehearsed steps with a rollback command, in rollback order, grouped likewise.
    public var rollbackGroups: [[String]]
    /// Rehearsed steps with `rollback: none`: left applied by a rollback.
    public var leftApplied: [String]
    public var beyondPointOfNoReturn: [Unrehearsed]
    /// The longest chain of rollbacks that must run one after another.
    public var longestRollbackChain: [String]

    public init(plan: Plan) {
        self.plan = plan
        let graph = plan.graph
        slots = plan.strategy.slots.map { slot in
            SlotFill(slot: slot, stepID: plan.steps.first { $0.role == slot.role }?.id)
        }
        let rehearsed = graph.rehearsable()
        forwardGroups = graph.forwardGroups(of: rehearsed).map(graph.ids)
        let reversible = rehearsed.filter { graph.steps[$0].rollbackCommand != nil }
        rollbackGroups = graph.rollbackGroups(of: reversible).map(graph.ids)
        leftApplied = graph.forwardOrder(of: rehearsed.subtracting(reversible)).map { graph.steps[$0].id }
        let beyond = graph.beyondPointOfNoReturn()
        beyondPointOfNoReturn = graph.forwardOrder(of: beyond).map { index in
            let step = graph.steps[index]
            if step.isIrreversible { return Unrehearsed(stepID: step.id, because: step.id) }
            let cause = graph.ancestors(of: [index]).filter { graph.steps[$0].isIrreversible }.min()!
            return Unrehearsed(stepID: step.id, because: graph.steps[cause].id)
        }
        longestRollbackChain = graph.ids(graph.longestRollbackChain(of: Set(reversible)))
    }
}

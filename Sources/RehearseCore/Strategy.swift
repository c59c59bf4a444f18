/// A deploy strategy: a template of named slots (roles), in forward order, each saying whether it
/// must be filled and how it reverses.
///
/// A plan names its strategy; validation checks that its steps fill the strategy's slots in order
/// and with the right kind of undo. `custom` has no slots and checks nothing about roles.
public struct Strategy: Sendable, Hashable, Identifiable {
    /// How a slot's step must be undone.
    public enum Reversal: String, Sendable, Hashable {
        /// The step must have a rollback command: the rollback depends on undoing it.
        case required
        /// A rollback command or `rollback: none` (harmless to leave applied) both fit.
        case optional
        /// The slot is a point of no return: its step must say `irreversible: true`.
        case pointOfNoReturn = "point of no return"
    }

    /// One named place in a strategy.
    public struct Slot: Sendable, Hashable {
        /// The value a step gives as `role:`.
        public var role: String
        public var isRequired: Bool
        public var reversal: Reversal
        /// What the forward step does, in an operator's words.
        public var forward: String
        /// How it is undone (empty for a point of no return).
        public var rollback: String

        public init(_ role: String, required: Bool, reversal: Reversal, forward: String, rollback: String) {
            self.role = role
            self.isRequired = required
            self.reversal = reversal
            self.forward = forward
            self.rollback = rollback
        }
    }

    /// The name a plan uses: `blue-green`, `in-place`, `dual-write`, `cut-and-fill`, `custom`.
    public var id: String
    /// One sentence on when to choose it.
    public var summary: String
    /// The shape of its rollback, in an operator's words.
    public var rollbackShape: String
    /// Slots in forward order.
    public var slots: [Slot]

    public init(id: String, summary: String, rollbackShape: String, slots: [Slot]) {
        self.id = id
        self.summary = summary
        self.rollbackShape = rollbackShape
        self.slots = slots
    }

    /// The slot with this role, if the strategy has one.
    public func slot(_ role: String) -> Slot? {
        slots.first { $0.role == role }
    }

    /// The strategy a plan names, if it is one of ``all``.
    public static func named(_ name: String) -> Strategy? {
        all.first { $0.id == name }
    }

    /// Every strategy the library knows, `custom` last.
    public static let all: [Strategy] = [.blueGreen, .inPlace, .dualWrite, .cutAndFill, .custom]
}

/// One go-live, as described by one YAML file in `Rehearsals/`: its strategy, steps, targets,
/// checks, state fingerprint and budget.
///
/// A `Plan` value is only ever produced by ``PlanParser`` for a file without errors, so its steps
/// form a valid graph: every `needs` names a step of the plan and there is no cycle.
public struct Plan: Sendable, Hashable {
    /// The plan's name (`name:`, or the file name without its extension).
    public var name: String
    /// The plan file's path as the user named it; commands run from its folder.
    public var file: String
    public var strategy: Strategy
    public var budget: Budget
    /// Targets in file order.
    public var targets: [Target]
    public var fingerprint: Fingerprint?
    public var checks: Checks
    /// The steps' dependency graph, built once when the plan is made.
    public let graph: StepGraph
    /// Steps in file order, which is the tie-break wherever order is otherwise free.
    public var steps: [Step] { graph.steps }
    /// The exact text the plan was read from.
    public var source: String
    /// Where the `strategy:` value stands, for diagnostics about the strategy as a whole.
    public var strategyLocation: SourceLocation
    /// Files the steps use (`inputs:`, paths and globs relative to the plan): hashed with the
    /// plan's text into its content hash, so that editing a migration changes what `gate` sees.
    public var inputs: [PlanInput]
    /// Writes made on the new version during the go-live window, and checks that they survive
    /// the rollback.
    public var window: Window?
    /// The go-live document's facts, for `rehearse runbook`.
    public var runbook: RunbookFacts?

    public init(
        name: String, file: String, strategy: Strategy, budget: Budget, targets: [Target],
        fingerprint: Fingerprint?, checks: Checks, steps: [Step], source: String, strategyLocation: SourceLocation,
        inputs: [PlanInput] = [], window: Window? = nil, runbook: RunbookFacts? = nil
    ) {
        self.name = name
        self.file = file
        self.strategy = strategy
        self.budget = budget
        self.targets = targets
        self.fingerprint = fingerprint
        self.checks = checks
        self.graph = StepGraph(steps: steps)
        self.source = source
        self.strategyLocation = strategyLocation
        self.inputs = inputs
        self.window = window
        self.runbook = runbook
    }

    /// The target with this name, if the plan has one.
    public func target(named name: String) -> Target? {
        targets.first { $0.name == name }
    }

    /// The step with this id, if the plan has one.
    public func step(withID id: String) -> Step? {
        steps.first { $0.id == id }
    }

    /// What `check` advises beyond validity: a fingerprint with no probe (nothing shows that it
    /// can see a change at all).
    public var advice: [Diagnostic] {
        guard let fingerprint, fingerprint.probe == nil else { return [] }
        return [.warning(at: fingerprint.location, "the fingerprint has no probe: nothing shows that it can see a change",
                         fix: "add probe: { run: <a small change to the copy>, undo: <its undo> } under 'fingerprint'")]
    }

    /// The timeout that applies to a step: its own, else the plan's `step-timeout`.
    public func timeout(for step: Step) -> Duration {
        step.timeout ?? budget.stepTimeout
    }
}

/// The go-live window: `write` commands are the traffic the new version takes between the smoke
/// checks and the rollback trigger (orders placed, jobs enqueued); `kept` checks run after the
/// rollback and pass when those writes survived it. With a fingerprint, the state after the
/// rollback is compared with a control copy on which the same writes ran against the old version:
/// rolling back must be as if the plan had never been deployed, with the window's writes kept.
public struct Window: Sendable, Hashable {
    public var writes: [Check]
    public var kept: [Check]
    public var location: SourceLocation

    public init(writes: [Check], kept: [Check] = [], location: SourceLocation) {
        self.writes = writes
        self.kept = kept
        self.location = location
    }
}

/// One entry of a plan's `inputs:`: a path or a glob (`*`, `?`, `[…]`) relative to the plan's
/// folder; a folder stands for every file under it.
public struct PlanInput: Sendable, Hashable {
    public var pattern: String
    public var location: SourceLocation

    public init(pattern: String, location: SourceLocation) {
        self.pattern = pattern
        self.location = location
    }
}

/// The time limits of a plan.
public struct Budget: Sendable, Hashable {
    /// The longest a rollback may take, from the trigger until the previous version is verified healthy.
    public var rollback: Duration
    /// The timeout of each step and check that does not set its own.
    public var stepTimeout: Duration

    public static let defaultRollback: Duration = .seconds(240)
    public static let defaultStepTimeout: Duration = .seconds(300)

    public init(rollback: Duration = Budget.defaultRollback, stepTimeout: Duration? = nil) {
        self.rollback = rollback
        // A step may never be cut short before the rollback budget itself runs out.
        self.stepTimeout = stepTimeout ?? max(Budget.defaultStepTimeout, rollback)
    }
}

/// A shell command from the plan, with where it was written.
public struct Command: Sendable, Hashable {
    /// The text handed to `/bin/sh -c`.
    public var run: String
    public var timeout: Duration?
    public var location: SourceLocation

    public init(run: String, timeout: Duration? = nil, location: SourceLocation) {
        self.run = run
        self.timeout = timeout
        self.location = location
    }
}

/// A named environment that steps and checks run against.
public struct Target: Sendable, Hashable {
    public var name: String
    /// Environment variables handed to every step and check, in file order.
    public var environment: [EnvironmentVariable]
    /// Never run without `--approve NAME` on the command line.
    public var isProtected: Bool
    /// Provisions or refreshes the target before anything else; timed, never counted as rollback.
    public var setup: Command?
    /// Cleans the target up after everything else; timed, never counted as rollback.
    public var teardown: Command?
    public var location: SourceLocation

    public init(
        name: String, environment: [EnvironmentVariable] = [], isProtected: Bool = false,
        setup: Command? = nil, teardown: Command? = nil, location: SourceLocation
    ) {
        self.name = name
        self.environment = environment
        self.isProtected = isProtected
        self.setup = setup
        self.teardown = teardown
        self.location = location
    }
}

public struct EnvironmentVariable: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A named pass/fail command: exit status 0 passes.
public struct Check: Sendable, Hashable {
    public var name: String
    public var command: Command
    /// Who runs or watches it on the day (a role: `dba`, `release manager`), for the runbook.
    public var owner: String?

    public init(name: String, command: Command, owner: String? = nil) {
        self.name = name
        self.command = command
        self.owner = owner
    }
}

/// The go-live document's own facts (`runbook:`): when the go-live happens, who to call, and the
/// go/no-go checklist (show-stoppers, plan B, sign-offs), rendered as tick boxes.
public struct RunbookFacts: Sendable, Hashable {
    public var window: String?
    public var contacts: [String]
    public var checklist: [String]

    public init(window: String? = nil, contacts: [String] = [], checklist: [String] = []) {
        self.window = window
        self.contacts = contacts
        self.checklist = checklist
    }
}

/// The three moments at which checks run.
public struct Checks: Sendable, Hashable {
    /// Before anything runs; a failure aborts with nothing to roll back.
    public var preflight: [Check]
    /// After the forward steps: the go-live's own verification.
    public var smoke: [Check]
    /// After the rollback: the previous version is healthy again.
    public var restored: [Check]

    public init(preflight: [Check] = [], smoke: [Check] = [], restored: [Check] = []) {
        self.preflight = preflight
        self.smoke = smoke
        self.restored = restored
    }
}

/// One reversible (or explicitly irreversible) unit of a go-live.
public struct Step: Sendable, Hashable, Identifiable {
    /// How a step is undone.
    public enum Undo: Sendable, Hashable {
        /// Run this command to undo the step.
        case command(String)
        /// `rollback: none`: harmless to leave applied, nothing to undo.
        case notNeeded
        /// `irreversible: true`: a point of no return, never run in a rehearsal.
        case irreversible
    }

    public var id: String
    /// The forward command.
    public var run: String
    public var undo: Undo
    /// Ids of the steps that must finish before this one starts, in file order.
    public var needs: [String]
    public var timeout: Duration?
    /// `atomic: true`: the step applies fully or not at all (one transaction, say), so when it
    /// fails on its own it is not rolled back. Stopped or timed out by the harness, it still is.
    public var isAtomic: Bool
    /// Who runs it on the day (a role), for the runbook.
    public var owner: String?
    /// `stop:`: a command run when the step's command (forward or rollback) is stopped (its
    /// timeout, an interruption, the trigger while it runs), before its process group is
    /// terminated: it cancels what the command asked a server to do (`pg_cancel_backend`).
    public var stop: String?
    /// The strategy slot this step fills, if any.
    public var role: String?
    /// Where the step's id is written, and where its `needs` entries and `role` are.
    public var location: SourceLocation
    public var needsLocations: [SourceLocation]
    public var roleLocation: SourceLocation?

    public init(
        id: String, run: String, undo: Undo, needs: [String] = [], timeout: Duration? = nil, isAtomic: Bool = false,
        role: String? = nil, location: SourceLocation, needsLocations: [SourceLocation]? = nil,
        roleLocation: SourceLocation? = nil
    ) {
        self.id = id
        self.run = run
        self.undo = undo
        self.needs = needs
        self.timeout = timeout
        self.isAtomic = isAtomic
        self.owner = nil
        self.stop = nil
        self.role = role
        self.location = location
        self.needsLocations = needsLocations ?? Array(repeating: location, count: needs.count)
        self.roleLocation = roleLocation
    }

    /// The rollback command, when the step has one.
    public var rollbackCommand: String? {
        if case .command(let command) = undo { return command }
        return nil
    }

    public var isIrreversible: Bool { undo == .irreversible }
}

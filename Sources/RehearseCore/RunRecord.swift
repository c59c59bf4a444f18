public import Foundation

/// Why the rollback began.
public struct RollbackTrigger: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// The forward steps and smoke checks passed: the rehearsal's planned rollback.
        case rehearsal
        /// `--fail-at STEP`: a deliberate cut at that step.
        case injected(step: String)
        /// A forward step failed or timed out.
        case stepFailed(step: String)
        /// A smoke check failed after the forward steps.
        case smokeFailed(check: String)
        /// SIGINT or SIGTERM reached the harness.
        case interrupted(signal: Int32)
    }

    public var reason: Reason
    /// The moment of the trigger, measured from the start of the run.
    public var offset: Duration

    public init(reason: Reason, offset: Duration) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        switch reason {
        case .rehearsal: "planned rollback after the forward steps and smoke checks"
        case .injected(let step): "--fail-at \(step)"
        case .stepFailed(let step): "forward step '\(step)' failed"
        case .smokeFailed(let check): "smoke check '\(check)' failed"
        case .interrupted(let signal): "interrupted by \(SignalName.of(signal))"
        }
    }
}

/// What is known when a run starts: enough for a journal to record it before the first command.
public struct RunHeader: Sendable, Hashable {
    public var runID: String
    public var plan: Plan
    public var target: String
    public var startedAt: Date
    /// `--fail-at`, when given.
    public var failAt: String?
    public var jobs: Int

    public init(runID: String, plan: Plan, target: String, startedAt: Date, failAt: String?, jobs: Int) {
        self.runID = runID
        self.plan = plan
        self.target = target
        self.startedAt = startedAt
        self.failAt = failAt
        self.jobs = jobs
    }
}

/// A complete rehearsal: every activity with its timing, the trigger, the fingerprints, what was
/// left applied, and the verdict.
public struct RunRecord: Sendable, Hashable {
    public var header: RunHeader
    /// Every activity in the order it started (rollbacks that never ran come last).
    public var executions: [Execution]
    public var trigger: RollbackTrigger?
    /// From the first forward step's start to the last forward step's end.
    public var forwardDuration: Duration?
    /// From the trigger to the end of the last rollback step and restored check.
    public var rollbackDuration: Duration?
    public var totalDuration: Duration
    public var fingerprintBefore: String?
    public var fingerprintAfter: String?
    /// Applied steps whose rollback did not complete: the copy is not back where it was.
    public var leftApplied: [String]
    /// Applied steps with `rollback: none`: harmless by the plan's own word.
    public var leftAppliedHarmless: [String]
    /// Processes a step left running (daemons), stopped by the harness at the end of the run.
    public var strayProcesses: [String]
    public var verdict: Verdict

    public init(
        header: RunHeader, executions: [Execution], trigger: RollbackTrigger?, forwardDuration: Duration?,
        rollbackDuration: Duration?, totalDuration: Duration, fingerprintBefore: String?, fingerprintAfter: String?,
        leftApplied: [String], leftAppliedHarmless: [String], strayProcesses: [String], verdict: Verdict
    ) {
        self.header = header
        self.executions = executions
        self.trigger = trigger
        self.forwardDuration = forwardDuration
        self.rollbackDuration = rollbackDuration
        self.totalDuration = totalDuration
        self.fingerprintBefore = fingerprintBefore
        self.fingerprintAfter = fingerprintAfter
        self.leftApplied = leftApplied
        self.leftAppliedHarmless = leftAppliedHarmless
        self.strayProcesses = strayProcesses
        self.verdict = verdict
    }

    public var budget: Duration { header.plan.budget.rollback }

    public func executions(_ kind: Activity.Kind) -> [Execution] {
        executions.filter { $0.activity.kind == kind }
    }

    /// The rollback steps that took longest, slowest first: what to change when over budget.
    public func slowestRollbacks(_ count: Int = 3) -> [Execution] {
        executions(.rollback)
            .filter { ($0.outcome?.duration ?? .zero) > .zero }
            .sorted { ($0.outcome?.duration ?? .zero) > ($1.outcome?.duration ?? .zero) }
            .prefix(count).map { $0 }
    }
}

/// What happened while a rehearsal ran, in order: what a journal records and a progress display shows.
public enum RunEvent: Sendable {
    case runStarted(RunHeader)
    case activityStarted(Activity, offset: Duration)
    case activityFinished(Execution)
    case rollbackTriggered(RollbackTrigger)
    case runFinished(RunRecord)
}

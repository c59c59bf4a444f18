public import Foundation

/// A run as the history keeps it: what was rehearsed, where, by whom, and every activity's timing.
/// Unlike ``RunRecord`` it may be incomplete: a run whose harness was killed stays `running` until
/// the next `rehearse` marks it `abandoned`.
public struct RecordedRun: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case running
        case passed
        case overBudget = "over-budget"
        case failed
        case interrupted
        /// The harness died while the run was `running` (killed, machine rebooted).
        case abandoned
    }

    public var id: Int64
    public var planName: String
    public var planFile: String
    public var planText: String
    public var planHash: String
    public var strategy: String
    public var target: String
    public var host: String
    public var user: String
    public var pid: Int32
    public var toolVersion: String
    public var gitCommit: String?
    public var failAt: String?
    public var startedAt: Date
    public var endedAt: Date?
    public var status: Status
    public var budget: Duration
    public var forward: Duration?
    public var rollback: Duration?
    public var trigger: String?
    public var triggerOffset: Duration?
    public var fingerprintBefore: String?
    public var fingerprintAfter: String?
    public var reasons: [String]
    public var leftApplied: [String]
    public var activities: [RecordedActivity]

    public init(
        id: Int64, planName: String, planFile: String, planText: String, planHash: String, strategy: String,
        target: String, host: String, user: String, pid: Int32, toolVersion: String, gitCommit: String?,
        failAt: String?, startedAt: Date, endedAt: Date?, status: Status, budget: Duration, forward: Duration?,
        rollback: Duration?, trigger: String?, triggerOffset: Duration?, fingerprintBefore: String?,
        fingerprintAfter: String?, reasons: [String], leftApplied: [String], activities: [RecordedActivity]
    ) {
        self.id = id
        self.planName = planName
        self.planFile = planFile
        self.planText = planText
        self.planHash = planHash
        self.strategy = strategy
        self.target = target
        self.host = host
        self.user = user
        self.pid = pid
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.failAt = failAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.status = status
        self.budget = budget
        self.forward = forward
        self.rollback = rollback
        self.trigger = trigger
        self.triggerOffset = triggerOffset
        self.fingerprintBefore = fingerprintBefore
        self.fingerprintAfter = fingerprintAfter
        self.reasons = reasons
        self.leftApplied = leftApplied
        self.activities = activities
    }

    /// Forward steps the journal shows were started (and so may be applied, fully or in part).
    public var startedForwardSteps: [String] {
        activities.filter { $0.kind == .forward && $0.status != "not-run" }.map(\.name)
    }

    /// Steps whose rollback completed (or that had nothing to undo).
    public var rolledBackSteps: Set<String> {
        Set(activities.filter { $0.kind == .rollback && ($0.status == Execution.Status.passed.rawValue || $0.status == Execution.Status.nothingToRun.rawValue) }.map(\.name))
    }

    /// What the journal says is applied and not rolled back: what `recover` must undo.
    public var stillApplied: [String] {
        let undone = rolledBackSteps
        var seen = Set<String>()
        return startedForwardSteps.filter { !undone.contains($0) && seen.insert($0).inserted }
    }
}

/// One activity of a recorded run.
public struct RecordedActivity: Sendable, Hashable {
    /// `running` while in flight; ``Execution/Status`` raw values once finished; `in-flight` when the
    /// harness died while it ran.
    public var kind: Activity.Kind
    public var name: String
    public var status: String
    public var startOffset: Duration?
    public var duration: Duration?
    public var exitStatus: Int32?
    public var signal: Int32?
    public var timedOut: Bool
    public var outputTail: String?
    public var logFile: String?

    public init(kind: Activity.Kind, name: String, status: String, startOffset: Duration?, duration: Duration?,
                exitStatus: Int32?, signal: Int32?, timedOut: Bool, outputTail: String?, logFile: String?) {
        self.kind = kind
        self.name = name
        self.status = status
        self.startOffset = startOffset
        self.duration = duration
        self.exitStatus = exitStatus
        self.signal = signal
        self.timedOut = timedOut
        self.outputTail = outputTail
        self.logFile = logFile
    }

    public static let inFlight = "in-flight"
}

/// The judgement on one rehearsal, and the reasons for it.
public struct Verdict: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Comparable {
        /// Rollback within budget, restored checks passed, fingerprint matched.
        case passed
        /// Everything passed, but the rollback took longer than the budget: the CI gate.
        case overBudget = "over-budget"
        /// A step, a check, the fingerprint, setup or teardown failed.
        case failed
        /// SIGINT or SIGTERM stopped the rehearsal (after the rollback it triggered).
        case interrupted

        private var severity: Int {
            switch self {
            case .passed: 0
            case .overBudget: 1
            case .failed: 2
            case .interrupted: 3
            }
        }

        public static func < (lhs: Outcome, rhs: Outcome) -> Bool { lhs.severity < rhs.severity }
    }

    /// At this share of the budget or more, a passing rollback earns a warning.
    public static let warningShare = 0.8

    public var outcome: Outcome
    /// Why the rehearsal failed, one sentence each; empty when it passed or was only over budget.
    public var reasons: [String]
    /// Rollback time over budget (1.0 is exactly the budget), when a rollback was timed.
    public var budgetShare: Double?
    /// The signal that interrupted the run, for the exit status (130 for SIGINT, 143 for SIGTERM).
    public var signal: Int32?

    public init(outcome: Outcome, reasons: [String] = [], budgetShare: Double? = nil, signal: Int32? = nil) {
        self.outcome = outcome
        self.reasons = reasons
        self.budgetShare = budgetShare
        self.signal = signal
    }

    /// True when a rollback passed but used at least ``warningShare`` of its budget.
    public var isNearBudget: Bool {
        outcome == .passed && (budgetShare ?? 0) >= Self.warningShare
    }

    /// Judges a finished run from what it recorded.
    public static func judge(
        executions: [Execution], rollbackDuration: Duration?, budget: Duration,
        fingerprintBefore: String?, fingerprintAfter: String?, leftApplied: [String], interruptedBy signal: Int32?
    ) -> Verdict {
        var reasons: [String] = []
        for execution in executions where execution.isFailure || execution.status == .blocked || execution.status == .abandoned {
            let activity = execution.activity
            let how = execution.outcome?.summary ?? execution.status.rawValue
            switch (activity.kind, execution.status) {
            case (.forward, .injectedFailure):
                continue  // a deliberate cut, not a failure of the plan
            case (_, .blocked):
                reasons.append("rollback of '\(activity.name)' not run: a rollback it depends on failed")
            case (_, .abandoned):
                reasons.append("rollback of '\(activity.name)' abandoned by a second interruption")
            case (.forward, _):
                reasons.append("forward step '\(activity.name)' failed (\(how))")
            case (.rollback, _):
                reasons.append("rollback of '\(activity.name)' failed (\(how))")
            case (.setup, _), (.teardown, _):
                reasons.append("\(activity.kind.rawValue) of target '\(activity.name)' failed (\(how))")
            case (.fingerprintBefore, _), (.fingerprintAfter, _):
                reasons.append("the fingerprint command failed (\(how))")
            default:
                reasons.append("\(activity.kind.rawValue) check '\(activity.name)' failed (\(how))")
            }
        }
        if let before = fingerprintBefore, let after = fingerprintAfter, before != after {
            reasons.append("the fingerprint after the rollback differs from the one before: the copy was not restored")
        }
        if !leftApplied.isEmpty, !reasons.contains(where: { $0.hasPrefix("rollback of") }) {
            reasons.append("left applied: \(leftApplied.joined(separator: ", "))")
        }
        let share = rollbackDuration.map { $0.seconds / max(budget.seconds, 1e-9) }
        if let signal {
            return Verdict(outcome: .interrupted, reasons: reasons, budgetShare: share, signal: signal)
        }
        if !reasons.isEmpty {
            return Verdict(outcome: .failed, reasons: reasons, budgetShare: share)
        }
        if let rollbackDuration, rollbackDuration > budget {
            return Verdict(outcome: .overBudget, budgetShare: share)
        }
        return Verdict(outcome: .passed, budgetShare: share)
    }
}

/// Signal names for people: `SIGINT`, `SIGTERM`, `SIGKILL`, else `signal N`.
public enum SignalName {
    public static func of(_ signal: Int32) -> String {
        switch signal {
        case 1: "SIGHUP"
        case 2: "SIGINT"
        case 3: "SIGQUIT"
        case 6: "SIGABRT"
        case 9: "SIGKILL"
        case 13: "SIGPIPE"
        case 15: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}

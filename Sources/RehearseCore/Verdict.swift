/// The judgement on one rehearsal: its outcome and the reasons for it.
public struct Verdict: Sendable, Hashable {
    /// At this share of the budget or more, a passing rollback earns a warning.
    public static let warningShare = 0.8

    /// `passed`, `over-budget`, `failed` or `interrupted`.
    public var status: RunStatus
    /// Why the rehearsal failed, one per fault; empty when it passed or was only over budget.
    public var reasons: [RunReason]

    public init(status: RunStatus, reasons: [RunReason] = []) {
        self.status = status
        self.reasons = reasons
    }

    /// Judges a finished run from what it recorded.
    public static func judge(
        activities: [ActivityRecord], rollback: Duration?, budget: Duration,
        fingerprintBefore: FingerprintOutput?, fingerprintAfter: FingerprintOutput?, leftApplied: [String], interruptedBy signal: Int32?,
        trigger: RollbackTrigger? = nil, fingerprint settings: Fingerprint? = nil, comparison: FingerprintComparison? = nil,
        also: [RunReason] = []
    ) -> Verdict {
        var reasons: [RunReason] = []
        for record in activities {
            let activity = record.activity
            switch (activity.kind, record.status) {
            case (_, .blocked):
                reasons.append(.rollbackBlocked(step: activity.name))
            case (_, .abandoned):
                reasons.append(.rollbackAbandoned(step: activity.name))
            case (_, .failed), (_, .timedOut):
                let how = record.summary
                switch activity.kind {
                case .forward: reasons.append(.stepFailed(step: activity.name, how: how))
                case .rollback: reasons.append(.rollbackFailed(step: activity.name, how: how))
                case .stop: reasons.append(.stopHookFailed(step: activity.name, how: how))
                case .setup, .teardown: reasons.append(.targetCommandFailed(phase: activity.kind, target: activity.name, how: how))
                case .fingerprintBefore, .fingerprintAfter: reasons.append(.fingerprintCommandFailed(how: how))
                case .preflight, .smoke, .restored, .kept, .windowWrite:
                    reasons.append(.checkFailed(phase: activity.kind, check: activity.name, how: how))
                }
            default:
                continue  // passed, stopped by the trigger, a deliberate cut, nothing to run
            }
        }
        // Compared line by line, ignored lines dropped and accepted differences allowed.
        if let before = fingerprintBefore, let after = fingerprintAfter {
            let compared = comparison ?? FingerprintComparison(before: before, after: after, settings: settings)
            if compared.differs { reasons.append(.fingerprintDiffers) }
            if compared.comparesNothing { reasons.append(.fingerprintEmpty) }
        }
        if !leftApplied.isEmpty, !reasons.contains(where: \.isAboutARollback) {
            reasons.append(.leftApplied(steps: leftApplied))
        }
        reasons += also
        if let signal {
            // When the signal was not the trigger (it came during the rollback, or before the
            // forward steps), the run still says which signal it was.
            if trigger?.reason.signal != signal { reasons.append(.interrupted(signal: signal)) }
            return Verdict(status: .interrupted, reasons: reasons)
        }
        if !reasons.isEmpty { return Verdict(status: .failed, reasons: reasons) }
        if let rollback, rollback > budget { return Verdict(status: .overBudget) }
        return Verdict(status: .passed)
    }
}

extension Verdict {
    /// Judges a live run (`rehearse go`, `rehearse rollback`). Its fingerprints are a record and
    /// are never compared (live data moves on): the restored checks decide.
    ///
    /// Not rolled back: `applied` when nothing failed (the new version is live and healthy),
    /// else `failed` (a preflight check failed: nothing was applied). Rolled back: `failed` when the
    /// rollback did not complete or a restored check failed, `over-budget` when it completed but
    /// took longer than its budget, `rolled-back` otherwise. The trigger's cause is among the
    /// reasons either way. A signal makes it `interrupted`, as in a rehearsal.
    public static func judgeLive(
        activities: [ActivityRecord], rolledBack: Bool, rollback: Duration?, budget: Duration, leftApplied: [String],
        interruptedBy signal: Int32?, trigger: RollbackTrigger?, also: [RunReason] = []
    ) -> Verdict {
        let base = judge(activities: activities, rollback: nil, budget: budget, fingerprintBefore: nil, fingerprintAfter: nil,
                         leftApplied: leftApplied, interruptedBy: signal, trigger: trigger, also: also)
        if base.status == .interrupted { return base }
        guard rolledBack else { return base.reasons.isEmpty ? Verdict(status: .applied) : base }
        let rollbackWentWrong = base.reasons.contains { reason in
            switch reason {
            case .rollbackFailed, .rollbackBlocked, .rollbackAbandoned, .leftApplied: true
            case .checkFailed(let phase, _, _): phase == .restored
            default: false
            }
        }
        if rollbackWentWrong || !also.isEmpty { return Verdict(status: .failed, reasons: base.reasons) }
        if let rollback, rollback > budget { return Verdict(status: .overBudget, reasons: base.reasons) }
        return Verdict(status: .rolledBack, reasons: base.reasons)
    }
}

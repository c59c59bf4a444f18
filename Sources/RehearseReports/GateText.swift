public import RehearseCore

/// `rehearse gate`'s answer: GO or NO-GO, and why.
public struct GateText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    public func render(_ decision: GateDecision, plan: String, target: String, from: String) -> String {
        if decision.isGo {
            return style.green(style.bold("GO")) + "  \(plan) on \(target): this exact plan passed its rehearsal on \(from) (run \(decision.run ?? 0))"
        }
        var lines = [style.red(style.bold("NO-GO")) + "  \(plan) on \(target): " + headline(decision.reason)]
        if case .changedSince(_, let changes) = decision.reason {
            if !changes.added.isEmpty { lines.append("  steps added:   " + changes.added.joined(separator: ", ")) }
            if !changes.removed.isEmpty { lines.append("  steps removed: " + changes.removed.joined(separator: ", ")) }
            for (step, fields) in changes.changed { lines.append("  step changed:  \(step) (\(fields.joined(separator: ", ")))") }
            if let (old, new) = changes.budgetChanged { lines.append("  budget:        \(DurationText.compact(old)) -> \(DurationText.compact(new))") }
            if changes.isEmpty { lines.append("  (the text changed, the steps did not: comments, checks, targets or layout)") }
        }
        if case .lastRehearsalDidNotPass(_, _, _, _, let reasons) = decision.reason {
            for reason in reasons { lines.append("  - " + reason.description) }
        }
        lines.append("  rehearse it: rehearse run PLAN --target \(from)")
        return lines.joined(separator: "\n")
    }

    private func headline(_ reason: GateDecision.Reason?) -> String {
        switch reason {
        case .neverRehearsed(let target)?:
            return "never rehearsed on \(target)"
        case .changedSince(let run, _)?:
            return "the plan changed since its last rehearsal (run \(run)); this version was never rehearsed"
        case .lastRehearsalDidNotPass(let run, let status, let rollback, let budget, _)?:
            var text = "its last rehearsal (run \(run)) "
            switch status {
            case .overBudget: text += "was over budget"
            case .failed: text += "failed"
            case .interrupted: text += "was interrupted"
            case .abandoned: text += "was abandoned (the harness died)"
            default: text += "did not pass (\(status.rawValue))"
            }
            if let rollback { text += ": rollback \(DurationText.precise(rollback)) of \(DurationText.compact(budget)) budget" }
            return text
        case .tooLongAgo(let run, let at, let age, let window)?:
            return "its last passing rehearsal (run \(run), \(TimestampText.local(at))) was \(Self.age(age)) ago, more than \(DurationText.compact(window))"
        case nil:
            return "no decision"
        }
    }

    static func age(_ duration: Duration) -> String {
        let hours = Int(duration.seconds / 3600)
        if hours >= 48 { return "\(hours / 24)d\(hours % 24 > 0 ? "\(hours % 24)h" : "")" }
        if hours >= 1 { return "\(hours)h\(Int(duration.seconds.truncatingRemainder(dividingBy: 3600) / 60))m" }
        return DurationText.precise(duration)
    }
}

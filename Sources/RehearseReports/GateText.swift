public import RehearseCore

/// `rehearse gate`'s answer: GO or NO-GO, and why.
public struct GateText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    public func render(_ decision: GateDecision, plan: String, target: String, from: String) -> String {
        if decision.isGo, let evidence = decision.evidence {
            return style.green(style.bold("GO")) + "  \(plan) on \(target): this exact plan passed " + Self.describe(evidence)
        }
        var lines = [style.red(style.bold("NO-GO")) + "  \(plan) on \(target): " + headline(decision.reason)]
        if case .changedSince(_, let changes, let inputs) = decision.reason {
            for path in inputs.changed { lines.append("  input changed: \(path)") }
            for path in inputs.added { lines.append("  input added:   \(path)") }
            for path in inputs.removed { lines.append("  input removed: \(path)") }
            if !changes.added.isEmpty { lines.append("  steps added:   " + changes.added.joined(separator: ", ")) }
            if !changes.removed.isEmpty { lines.append("  steps removed: " + changes.removed.joined(separator: ", ")) }
            for (step, fields) in changes.changed { lines.append("  step changed:  \(step) (\(fields.joined(separator: ", ")))") }
            if let (old, new) = changes.budgetChanged { lines.append("  budget:        \(DurationText.compact(old)) -> \(DurationText.compact(new))") }
            if changes.isEmpty, inputs.isEmpty { lines.append("  (the text changed, the steps did not: comments, checks, targets or layout)") }
        }
        if case .lastRehearsalDidNotPass(_, _, _, _, let reasons, _) = decision.reason {
            for reason in reasons { lines.append("  - " + reason.description) }
        }
        if case .cutStillFailing(_, let cut, _, _, _, let reasons) = decision.reason {
            for reason in reasons { lines.append("  - " + reason.description) }
            lines.append("  rehearse that cut again once fixed: rehearse run PLAN --target \(from) \(cut)")
        }
        if case .nothingCounts(_, .everyCut) = decision.reason {
            lines.append("  rehearse it from every cut point: rehearse run PLAN --target \(from) --every-cut")
        } else {
            if case .nothingCounts = decision.reason {
                lines.append("  a --fail-at or --cut-before rehearsal tests the rollback from one place only: rehearse the whole plan")
            }
            lines.append("  rehearse it: rehearse run PLAN --target \(from)")
        }
        return lines.joined(separator: "\n")
    }

    private func headline(_ reason: GateDecision.Reason?) -> String {
        switch reason {
        case .neverRehearsed(let target)?:
            return "never rehearsed on \(target)"
        case .changedSince(let run, _, _)?:
            return "the plan changed since its last rehearsal (run \(run)); this version was never rehearsed"
        case .lastRehearsalDidNotPass(let run, let status, let rollback, let budget, _, let cut)?:
            var text = "its last rehearsal (run \(run)\(cut.map { ", " + $0.phrase } ?? "")) "
            switch status {
            case .overBudget: text += "was over budget"
            case .failed: text += "failed"
            case .interrupted: text += "was interrupted"
            case .abandoned: text += "was abandoned (the harness died)"
            default: text += "did not pass (\(status.rawValue))"
            }
            if let rollback { text += ": rollback \(DurationText.precise(rollback)) of \(DurationText.compact(budget)) budget" }
            return text
        case .nothingCounts(let runs, let requirement)?:
            let which = (runs.count == 1 ? "run " : "runs ") + runs.prefix(5).map(String.init).joined(separator: ", ") + (runs.count > 5 ? ", …" : "")
            return requirement == .everyCut
                ? "no every-cut rehearsal of this exact plan passed (\(which): not a complete every-cut group)"
                : "no full rehearsal of this exact plan passed (\(which): only cuts, or an every-cut group that did not finish)"
        case .cutStillFailing(let run, let cut, let status, let rollback, let budget, _)?:
            var text = "its rehearsal from a cut (run \(run), \(cut.phrase)) "
            text += status == .overBudget ? "was over budget" : "failed"
            if let rollback { text += ": rollback \(DurationText.precise(rollback)) of \(DurationText.compact(budget)) budget" }
            return text + "; no later rehearsal from that cut passed (a full rehearsal does not clear it)"
        case .tooLongAgo(let run, let at, let age, let window)?:
            return "its last passing rehearsal (run \(run), \(TimestampText.local(at))) was \(Self.age(age)) ago, more than \(DurationText.compact(window))"
        case nil:
            return "no decision"
        }
    }

    /// `every-cut group 3f2a9c1e (5 rehearsals, all passed) on copy, finished 2026-12-02 14:03; worst rollback 1.4s of 30s (5%, fail at migrate)`
    static func describe(_ evidence: GateDecision.Evidence) -> String {
        var text: String
        switch evidence.kind {
        case .fullRehearsal: text = "a full rehearsal (run \(evidence.run))"
        case .everyCut(let group, let count): text = "every-cut group \(group.prefix(8)) (\(count) rehearsal\(count == 1 ? "" : "s"), all passed)"
        case .repeated(let group, let count): text = "a full rehearsal \(count) times (group \(group.prefix(8)), all passed)"
        }
        text += " on \(evidence.target), finished \(TimestampText.local(evidence.finishedAt))"
        if let rollback = evidence.worstRollback {
            let share = Int((rollback.seconds / max(evidence.budget.seconds, 1e-9) * 100).rounded())
            text += "; worst rollback \(DurationText.precise(rollback)) of \(DurationText.compact(evidence.budget)) (\(share)%"
            if case .everyCut = evidence.kind { text += ", " + (evidence.worstCut?.phrase ?? "full rehearsal") + " in run \(evidence.run)" }
            if case .repeated = evidence.kind { text += ", run \(evidence.run)" }
            text += ")"
        }
        return text
    }

    static func age(_ duration: Duration) -> String {
        let hours = Int(duration.seconds / 3600)
        if hours >= 48 { return "\(hours / 24)d\(hours % 24 > 0 ? "\(hours % 24)h" : "")" }
        if hours >= 1 { return "\(hours)h\(Int(duration.seconds.truncatingRemainder(dividingBy: 3600) / 60))m" }
        return DurationText.precise(duration)
    }
}

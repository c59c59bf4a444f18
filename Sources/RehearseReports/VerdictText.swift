public import RehearseCore

/// The lines that end a rehearsal: the verdict against the budget, what failed, what is left
/// applied, and what to change.
///
/// `checkout-v2: PASSED  rollback 1m52.4s of 4m budget (47%)  forward 3m10.2s`
public struct VerdictText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    /// - Parameter title: what the verdict is about (default: the plan's name).
    public func render(_ run: Run, title: String? = nil) -> String {
        var head = style.bold((title ?? run.planName) + ":") + " " + label(run)
        if let rollback = run.rollback {
            head += "  rollback \(DurationText.precise(rollback)) of \(DurationText.compact(run.budget)) budget"
            head += " (\(budgetNote(rollback, budget: run.budget)))"
        } else {
            head += "  nothing was rolled back"
        }
        if let forward = run.forward { head += "  forward \(DurationText.precise(forward))" }
        var lines = [head]
        if run.isLive { lines += liveLines(run) }
        if run.modes.contains("twice") {
            lines.append("  --twice: every step ran twice, with a fingerprint after each run; this rollback time is not held against the budget")
        }
        if run.modes.contains("round-trip") {
            lines.append("  --round-trip: forward and rollback twice; the rollback time is the slower of the two")
        }
        // What was rehearsed, counted: a cut or a failure leaves steps unapplied.
        if run.cut != nil || (run.stepCount.map { run.appliedStepCount < $0 } ?? false) {
            lines.append("  rehearsed: " + run.coverage)
        }

        if let trigger = run.trigger, trigger.reason != .rehearsal {
            lines.append("  rollback trigger: \(trigger.description) at +\(DurationText.precise(trigger.offset))")
        }
        if run.isNearBudget {
            lines.append("  " + style.yellow("warning:") + " the rollback used \(percent(run.budgetShare ?? 0)) of its budget (warning from \(percent(Verdict.warningShare)))")
        }
        for reason in run.reasons {
            lines.append("  - " + reason.description)
        }
        if let comparison = run.fingerprintComparison, !comparison.diff.isEmpty {
            lines += fingerprintDifference(comparison, logsFolder: run.logsFolder)
        }
        if run.status == .overBudget || run.isNearBudget {
            let slowest = run.slowestRollbacks()
            if !slowest.isEmpty {
                let names = slowest.map { "\($0.name) \(DurationText.precise($0.duration ?? .zero))" }
                lines.append("  slowest rollback steps: " + names.joined(separator: ", "))
            }
        }
        if !run.leftApplied.isEmpty {
            lines.append("  " + style.red("left applied:") + " " + run.leftApplied.joined(separator: ", ")
                         + (run.isLive ? "  (the target is not back where it was)" : "  (the copy is not back where it was)"))
        }
        if !run.strayProcesses.isEmpty {
            lines.append("  " + style.yellow("warning:") + " stopped \(run.strayProcesses.count) process(es) that steps left running: "
                         + run.strayProcesses.prefix(3).joined(separator: "; "))
        }
        if !run.copyServices.isEmpty {
            // Said once, here: they belong to the copy, and nothing of the harness stops them.
            // (The run's own teardown is named after the target; a control copy's has its own.)
            let tornDown = run.activities.contains { $0.kind == .teardown && $0.name == run.target && $0.startOffset != nil }
            let abandoned = run.activities.contains { $0.status == .abandoned }
            let names = run.copyServices.prefix(3).joined(separator: "; ") + (run.copyServices.count > 3 ? "; …" : "")
            lines.append("  " + style.yellow("note:") + " the target's setup\(tornDown ? " or teardown" : "") left \(run.copyServices.count) process(es) running"
                         + (tornDown ? ", still there after the teardown: " : ": ") + names)
            let why = tornDown ? "; the teardown should stop them"
                : abandoned ? "; the teardown did not run (the rollback was abandoned, the copy is left for 'rehearse recover')"
                : "; a 'teardown' for target '\(run.target)' would stop them"
            lines.append("        they belong to the copy and are not stopped" + why)
        }
        return lines.joined(separator: "\n")
    }

    private func label(_ run: Run) -> String {
        switch run.status {
        case .passed: style.green(style.bold("PASSED"))
        case .overBudget: style.red(style.bold("OVER BUDGET"))
        case .failed: style.red(style.bold("FAILED"))
        case .interrupted: style.yellow(style.bold("INTERRUPTED")) + " by " + SignalName.of(run.signal ?? 2)
        case .abandoned: style.yellow(style.bold("ABANDONED"))
        case .running: style.cyan(style.bold("RUNNING"))
        case .applied: style.green(style.bold("APPLIED"))
        case .rolledBack: style.yellow(style.bold("ROLLED BACK"))
        case .completed: style.green(style.bold("COMPLETED"))
        }
    }

    /// A live run: who approved it and on what evidence, and what the operator can do next.
    private func liveLines(_ run: Run) -> [String] {
        var lines: [String] = []
        if let approval = run.approval {
            lines.append("  live: approved by \(approval.user) on \(approval.host) at \(TimestampText.utc(approval.at)) UTC"
                         + (run.evidence.map { ", resting on the rehearsal \($0)" } ?? ""))
        }
        let plan = PlanParser().parse(run.planText, file: run.planFile, defaultName: run.planName).plan
        switch run.status {
        case .applied:
            let beyond = plan.map { $0.graph.ids($0.graph.forwardOrder(of: $0.graph.beyondPointOfNoReturn())) } ?? []
            lines.append("  the new version is live and healthy; nothing was rolled back")
            if !beyond.isEmpty {
                lines.append("  beyond the point of no return, not run: \(beyond.joined(separator: ", "))")
                lines.append("  next: 'rehearse go --finish \(run.id) --approve \(run.target)' to run them,"
                             + " or 'rehearse rollback \(run.id) --approve \(run.target)' to go back")
            } else {
                lines.append("  to go back later: 'rehearse rollback \(run.id) --approve \(run.target)'")
            }
        case .completed:
            lines.append("  the go-live is complete: its point of no return is passed")
        case .rolledBack:
            lines.append("  rolled back completely, within budget, and the restored checks passed: the old version is live")
        default:
            break
        }
        return lines
    }

    private func budgetNote(_ rollback: Duration, budget: Duration) -> String {
        if rollback > budget { return "+" + DurationText.precise(rollback - budget) }
        return percent(rollback.seconds / max(budget.seconds, 1e-9))
    }

    private func percent(_ share: Double) -> String {
        "\(Int((share * 100).rounded()))%"
    }

    /// How the fingerprints differ: the counts, the accepted differences with their reasons, the
    /// first hunks with context, and where the full before, after and diff are.
    func fingerprintDifference(_ comparison: FingerprintComparison, logsFolder: String?, hunkLimit: Int = 3, lineLimit: Int = 40) -> [String] {
        let diff = comparison.diff
        var head = "  fingerprint: \(diff.removedCount) line\(diff.removedCount == 1 ? "" : "s") removed, \(diff.addedCount) added"
        if !comparison.accepted.isEmpty { head += " (\(comparison.accepted.count) accepted)" }
        if diff.isApproximate { head += " (at most: too many repeated lines to align them all)" }
        var lines = [head]
        for reason in Set(comparison.accepted.map(\.reason)).sorted() {
            let count = comparison.accepted.filter { $0.reason == reason }.count
            lines.append("    accepted: \(count) line\(count == 1 ? "" : "s"): \(reason)")
        }
        let hunks = diff.hunks()
        var shown = 0
        for hunk in hunks.prefix(hunkLimit) where shown < lineLimit {
            lines.append("    " + style.cyan(hunk.header))
            for line in hunk.lines where shown < lineLimit {
                let text = "    " + String(line.kind.rawValue) + PrintableText.of(line.text.prefix(200))
                lines.append(line.kind == .removed ? style.red(text) : line.kind == .added ? style.green(text) : style.dim(text))
                shown += 1
            }
        }
        if hunks.count > hunkLimit || shown >= lineLimit {
            lines.append("    … \(hunks.count) hunk\(hunks.count == 1 ? "" : "s") in all")
        }
        if let logsFolder {
            lines.append("    full before, after and diff: \(logsFolder)/fingerprint-before.txt, fingerprint-after.txt, fingerprint.diff")
        }
        return lines
    }
}

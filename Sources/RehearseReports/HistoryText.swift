import Foundation
public import RehearseCore

/// `rehearse history` and `rehearse show` for people.
public struct HistoryText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    /// Recent runs, newest first: id, plan, target, start, outcome, rollback against budget.
    public func list(_ runs: [Run]) -> String {
        var table = TableText(headers: ["run", "plan", "target", "started", "outcome", "rollback", "budget", "rehearsed"], rightAligned: [0, 5])
        for run in runs {
            table.rows.append([
                String(run.id), run.planName, run.target, TimestampText.local(run.startedAt), status(run.status),
                run.rollback.map(DurationText.precise) ?? "-",
                DurationText.compact(run.budget) + (run.rollback.map { " (\(Self.percent($0, of: run.budget)))" } ?? ""),
                Self.rehearsed(run),
            ])
        }
        return table.render(style: style).joined(separator: "\n")
    }

    /// One run, step by step.
    public func detail(_ run: Run) -> String {
        var lines: [String] = []
        lines.append(style.bold("run \(run.id)") + "  \(run.planName) on \(run.target)  " + status(run.status))
        lines.append("  plan      \(run.planFile)  (\(run.strategy), \(run.planHash.prefix(19))…)")
        var who = "  started   \(TimestampText.local(run.startedAt, seconds: true)) by \(run.user) on \(run.host) (pid \(run.pid)), rehearse \(run.toolVersion)"
        if let commit = run.gitCommit { who += ", commit \(commit.prefix(10))" }
        lines.append(who)
        if let cut = run.cut { lines.append("  cut       \(cut.phrase) (\(cut))") }
        if let group = run.group {
            lines.append("  group     every-cut group \(group.id.prefix(8)), \(group.size) rehearsal\(group.size == 1 ? "" : "s")"
                         + (group.shard.map { " (shard \($0))" } ?? "") + "  (rehearse show --group \(group.id.prefix(8)))")
        }
        if run.stepCount != nil { lines.append("  applied   \(run.coverage)") }
        if run.isLive {
            var live = "  live      the go-live itself"
            if let approval = run.approval {
                live += ", approved (--approve \(approval.target)) by \(approval.user) on \(approval.host) at \(TimestampText.local(approval.at, seconds: true))"
            }
            lines.append(live)
            if let evidence = run.evidence { lines.append("  gate      GO on the rehearsal \(evidence)") }
        }
        if !run.inputHashes.isEmpty {
            lines.append("  inputs    \(run.inputHashes.count) file\(run.inputHashes.count == 1 ? "" : "s") in the content hash: "
                         + run.inputHashes.keys.sorted().prefix(5).joined(separator: ", ") + (run.inputHashes.count > 5 ? ", …" : ""))
        }
        var figures = "  rollback  "
        if let rollback = run.rollback {
            figures += "\(DurationText.precise(rollback)) of \(DurationText.compact(run.budget)) budget (\(Self.percent(rollback, of: run.budget)))"
        } else {
            figures += "not timed (budget \(DurationText.compact(run.budget)))"
        }
        if let forward = run.forward { figures += ", forward \(DurationText.precise(forward))" }
        lines.append(figures)
        if let trigger = run.trigger {
            lines.append("  trigger   \(trigger.description) at +\(DurationText.precise(trigger.offset))")
        }
        lines.append("")
        var table = TableText(headers: ["phase", "name", "start", "took", "result"], rightAligned: [2, 3])
        for activity in run.activities {
            table.rows.append([
                phase(activity.kind), activity.name,
                activity.startOffset.map { "+" + DurationText.precise($0) } ?? "",
                activity.duration.map(DurationText.precise) ?? "",
                result(activity),
            ])
        }
        lines += table.render(indent: "  ", style: style)
        for reason in run.reasons { lines.append("  - " + reason.description) }
        if let comparison = run.fingerprintComparison, !comparison.accepted.isEmpty {
            for reason in Set(comparison.accepted.map(\.reason)).sorted() {
                let count = comparison.accepted.filter { $0.reason == reason }.count
                lines.append("  accepted fingerprint difference (\(count) line\(count == 1 ? "" : "s")): \(reason)")
            }
        }
        if !run.leftApplied.isEmpty {
            let tornDown = run.tookDownItsCopy
            lines.append("  " + style.red("still applied:") + " " + run.leftApplied.joined(separator: ", ")
                         + (tornDown ? "  (on a copy its teardown has since removed)" : "  (rehearse recover \(run.id) rolls them back)"))
        }
        return lines.joined(separator: "\n")
    }

    /// `full`, `fail at migrate`, `cut before switch`, and the every-cut group it belongs to.
    static func rehearsed(_ run: Run) -> String {
        if run.isLive { return "live go-live" }
        var text = run.cut?.phrase ?? "full"
        if !run.modes.isEmpty { text += ", " + run.modes.joined(separator: ", ") }
        if let group = run.group { text += " (group \(group.id.prefix(8)))" }
        return text
    }

    func status(_ status: RunStatus) -> String {
        switch status {
        case .passed: style.green("passed")
        case .overBudget: style.red("over budget")
        case .failed: style.red("failed")
        case .interrupted: style.yellow("interrupted")
        case .abandoned: style.yellow("abandoned")
        case .running: style.cyan("running")
        case .applied: style.green("applied")
        case .rolledBack: style.yellow("rolled back")
        case .completed: style.green("completed")
        }
    }

    private func phase(_ kind: Activity.Kind) -> String { kind.label }

    private func result(_ activity: ActivityRecord) -> String {
        var text = activity.status.rawValue
        if let code = activity.exitStatus, code != 0 { text += " (exit \(code))" }
        if let signal = activity.signal { text += " (\(SignalName.of(signal)))" }
        if activity.timedOut { text += " (timed out)" }
        switch activity.status {
        case .passed: return style.green(text)
        case .nothingToRun: return style.dim("rollback: none")
        case .inFlight: return style.yellow("in flight when the harness died")
        case .running: return style.cyan(text)
        default: return style.red(text)
        }
    }

    static func percent(_ value: Duration, of whole: Duration) -> String {
        "\(Int((value.seconds / max(whole.seconds, 1e-9) * 100).rounded()))%"
    }
}

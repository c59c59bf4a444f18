public import RehearseCore

/// `rehearse compare` for people: steps side by side with deltas, regressions flagged, the
/// rollback total against both budgets, and how the plan changed.
public struct ComparisonText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    public func render(_ comparison: RunComparison) -> String {
        let a = comparison.before, b = comparison.after
        var lines = [style.bold("\(a.label)  ->  \(b.label)")]
        lines.append("  A: " + a.outcomes.joined(separator: "; "))
        lines.append("  B: " + b.outcomes.joined(separator: "; "))
        if a.kind != b.kind {
            let (rehearsed, live) = a.kind == .live ? ("B", "A") : ("A", "B")
            lines.append("  the go-live against its rehearsal: \(rehearsed) is the rehearsed time, \(live) the actual one (how well the copy predicted the day)")
        }
        if comparison.comparesDifferentPlans {
            lines.append("  " + style.yellow("warning:") + " these are runs of different plans ('\(a.planName)' and '\(b.planName)')")
        }
        if comparison.comparesDifferentCuts {
            lines.append("  " + style.yellow("warning:") + " the runs rehearsed different things (\(a.cut?.phrase ?? "full rehearsal") and "
                         + "\(b.cut?.phrase ?? "full rehearsal")): their rollbacks undo different steps")
        }
        var table = TableText(headers: ["step", "forward A", "forward B", "change", "rollback A", "rollback B", "change", ""],
                              rightAligned: [1, 2, 3, 4, 5, 6])
        for row in comparison.rows {
            table.rows.append([
                row.step, time(row.forward.before), time(row.forward.after), change(row.forward),
                time(row.rollback.before), time(row.rollback.after), change(row.rollback),
                row.isRegression ? style.red(row.rollback.isRegression ? "REGRESSION" : "REGRESSION (forward)")
                    : row.forward.isRegression ? style.yellow("slower forward") : "",
            ])
        }
        lines += table.render(indent: "  ", style: style)
        lines.append("")
        let total = comparison.rollbackTotal
        var totalLine = "  rollback total  \(time(total.before)) of \(DurationText.compact(a.budget))  ->  \(time(total.after)) of \(DurationText.compact(b.budget))"
        if total.delta != nil { totalLine += "  (\(change(total)))" }
        if total.isRegression { totalLine += "  " + style.red("REGRESSION") }
        lines.append(totalLine)
        let regressions = comparison.regressions
        let thresholds = comparison.thresholds
        lines.append("  " + (regressions.isEmpty
            ? "no regressions (a step must be \(Int(thresholds.relative * 100))% and \(DurationText.compact(thresholds.absolute)) slower to count)"
            : style.red("\(regressions.count) regression\(regressions.count == 1 ? "" : "s"): ") + regressions.map(\.step).joined(separator: ", ")))
        let slower = comparison.forwardSlowdowns
        if !slower.isEmpty {
            lines.append("  forward steps slower (not counted; --include-forward counts them): " + slower.map(\.step).joined(separator: ", "))
        }
        let changes = comparison.planChanges
        if changes.isEmpty {
            lines.append("  plan unchanged between the two")
        } else {
            lines.append("  plan changes:")
            if !changes.added.isEmpty { lines.append("    added:   " + changes.added.joined(separator: ", ")) }
            if !changes.removed.isEmpty { lines.append("    removed: " + changes.removed.joined(separator: ", ")) }
            for (step, fields) in changes.changed { lines.append("    changed: \(step) (\(fields.joined(separator: ", ")))") }
            if let (old, new) = changes.budgetChanged {
                lines.append("    budget:  \(DurationText.compact(old)) -> \(DurationText.compact(new))")
            }
        }
        return lines.joined(separator: "\n")
    }

    private func time(_ duration: Duration?) -> String {
        duration.map(DurationText.precise) ?? "-"
    }

    private func change(_ change: RunComparison.Change) -> String {
        guard let delta = change.delta else { return "" }
        let sign = delta >= .zero ? "+" : "-"
        let magnitude = delta >= .zero ? delta : .zero - delta
        var text = sign + DurationText.precise(magnitude)
        if let relative = change.relative { text += " (\(relative >= 0 ? "+" : "")\(Int((relative * 100).rounded()))%)" }
        return change.isRegression ? style.red(text) : text
    }
}

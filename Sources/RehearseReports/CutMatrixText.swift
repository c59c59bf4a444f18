public import RehearseCore

/// The matrix of an every-cut rehearsal: for each cut, what was applied, the rollback time
/// against the budget and the verdict, then the worst case.
///
/// ```
/// checkout: every cut point, 4 rehearsals (group 3f2a9c1e)
///   cut                     applied  rollback  budget  share  verdict
///   fail at deploy-green    1 of 3       0.8s     30s     3%  PASSED
///   full rehearsal          3 of 3       1.4s     30s     5%  PASSED
///   worst: full rehearsal, rollback 1.4s of 30s (5%): PASSED
/// ```
public struct CutMatrixText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    /// - Parameters:
    ///   - cuts: the cuts the group had to rehearse, in order; cuts that did not run show as such.
    ///   - runs: the runs of the group.
    public func render(plan: String, group: RunGroup, cuts: [Cut?], runs: [Run]) -> String {
        let what = group.kind == .repeat ? "the same rehearsal repeated" : "every cut point"
        var title = style.bold(plan + ":") + " \(what), \(cuts.count) rehearsal\(cuts.count == 1 ? "" : "s")"
        if let shard = group.shard { title += " (shard \(shard))" }
        title += style.dim(" (group \(group.id.prefix(8)))")
        var table = TableText(headers: ["run", "cut", "applied", "rollback", "budget", "share", "verdict"], rightAligned: [0, 3, 4, 5])
        // A repeated rehearsal: one row per run, in order; every cut point: one row per cut.
        let rows: [(cut: Cut?, run: Run?)] = group.kind == .repeat
            ? runs.map { ($0.cut, $0) } + Array(repeating: (cuts.first ?? nil, nil), count: max(0, cuts.count - runs.count))
            : cuts.map { cut in (cut, runs.first { $0.cut == cut }) }
        for (cut, found) in rows {
            guard let run = found else {
                table.rows.append(["-", Self.name(cut), "", "", "", "", style.dim("not run")])
                continue
            }
            table.rows.append([
                String(run.id), Self.name(cut), "\(run.appliedStepCount) of \(run.stepCount.map(String.init) ?? "?")",
                run.rollback.map(DurationText.precise) ?? "-", DurationText.compact(run.budget),
                run.budgetShare.map { "\(Int(($0 * 100).rounded()))%" } ?? "-", label(run),
            ])
        }
        var lines = [title] + table.render(indent: "  ", style: style)
        if let worst = Self.worst(runs) {
            var line = "  worst: \(Self.name(worst.cut))"
            if let rollback = worst.rollback {
                line += ", rollback \(DurationText.precise(rollback)) of \(DurationText.compact(worst.budget))"
                line += " (\(Int(((worst.budgetShare ?? 0) * 100).rounded()))%)"
            }
            line += ": " + label(worst)
            lines.append(line)
        }
        let missing = cuts.count - runs.count
        if missing > 0 {
            lines.append("  " + style.yellow("incomplete:") + " \(missing) of \(cuts.count) cut\(cuts.count == 1 ? "" : "s") did not run")
        }
        return lines.joined(separator: "\n")
    }

    /// `fail at migrate`, or `full rehearsal`.
    public static func name(_ cut: Cut?) -> String { cut?.phrase ?? "full rehearsal" }

    /// The worst outcome, then the largest share of its budget.
    public static func worst(_ runs: [Run]) -> Run? {
        runs.max { ($0.status.severity, $0.budgetShare ?? 0) < ($1.status.severity, $1.budgetShare ?? 0) }
    }

    private func label(_ run: Run) -> String {
        switch run.status {
        case .passed: style.green("PASSED")
        case .overBudget: style.red("OVER BUDGET")
        case .failed: style.red("FAILED")
        case .interrupted: style.yellow("INTERRUPTED")
        case .abandoned: style.yellow("ABANDONED")
        case .running: style.cyan("RUNNING")
        case .applied: style.green("APPLIED")
        case .rolledBack: style.yellow("ROLLED BACK")
        case .completed: style.green("COMPLETED")
        }
    }
}

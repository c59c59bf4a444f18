public import RehearseCore

/// Rollback times over several rehearsals, for people: `history --stats`, `run --repeat`, `gate`.
public struct StatsText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    /// `median 1.2s, p95 1.9s, max 2.1s over 12 runs; headroom 2m2s under the 4m budget`
    public func summary(_ stats: RollbackStats) -> String {
        "median \(DurationText.precise(stats.median)), p95 \(DurationText.precise(stats.p95)), max \(DurationText.precise(stats.max))"
            + " over \(stats.count) run\(stats.count == 1 ? "" : "s"); " + headroom(stats)
    }

    public func headroom(_ stats: RollbackStats) -> String {
        stats.headroom >= .zero
            ? "headroom \(DurationText.precise(stats.headroom)) under the \(DurationText.compact(stats.budget)) budget"
            : style.red("p95 over the \(DurationText.compact(stats.budget)) budget by \(DurationText.precise(.zero - stats.headroom))")
    }

    /// `--repeat`: the outcomes, the worst rollback against the budget, median and p95.
    ///
    /// `checkout: 5 of 5 rehearsals (4 passed, 1 over-budget); worst rollback 4m12.0s of 4m (run 41, over-budget)`
    public func repeated(plan: String, runs: [Run], asked: Int, budget: Duration) -> String? {
        guard let worst = CutMatrixText.worst(runs) else { return nil }
        let counts = RunStatus.allCases.compactMap { status -> String? in
            let count = runs.filter { $0.status == status }.count
            return count > 0 ? "\(count) \(status.rawValue)" : nil
        }
        var line = style.bold(plan + ":") + " \(runs.count) of \(asked) rehearsals (\(counts.joined(separator: ", ")))"
        if let rollback = worst.rollback {
            line += "; worst rollback \(DurationText.precise(rollback)) of \(DurationText.compact(worst.budget)) (run \(worst.id), \(worst.status.rawValue))"
        }
        if let stats = RollbackStats(runs.filter { $0.status == .passed || $0.status == .overBudget }.compactMap(\.rollback), budget: budget) {
            line += "\n  rollback " + summary(stats)
        }
        return line
    }

    /// One row per plan and target, and with `steps`, each plan's rollback steps under it.
    public func table(_ rows: [(plan: String, target: String, stats: RollbackStats?, steps: [(step: String, stats: RollbackStats)])]) -> String {
        var table = TableText(headers: ["plan", "target", "runs", "median", "p95", "max", "budget", "headroom"], rightAligned: [2, 3, 4, 5, 6, 7])
        for row in rows {
            guard let stats = row.stats else {
                table.rows.append([row.plan, row.target, "0", "-", "-", "-", "-", style.dim("no passing full rehearsal")])
                continue
            }
            table.rows.append([
                row.plan, row.target, String(stats.count), DurationText.precise(stats.median), DurationText.precise(stats.p95),
                DurationText.precise(stats.max), DurationText.compact(stats.budget),
                stats.headroom >= .zero ? DurationText.precise(stats.headroom) : style.red("-" + DurationText.precise(.zero - stats.headroom)),
            ])
            for (step, stepStats) in row.steps {
                table.rows.append([
                    style.dim("  rollback " + step), "", String(stepStats.count), DurationText.precise(stepStats.median),
                    DurationText.precise(stepStats.p95), DurationText.precise(stepStats.max), "", "",
                ])
            }
        }
        return table.render(style: style).joined(separator: "\n")
    }
}

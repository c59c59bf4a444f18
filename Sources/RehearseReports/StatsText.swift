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

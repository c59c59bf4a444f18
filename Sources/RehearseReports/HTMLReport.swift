import Foundation
public import RehearseCore

/// One self-contained HTML page for a run (no network: inline CSS and SVG): a timeline of every
/// activity as bars on one time axis with the rollback trigger and the budget, the step table,
/// and this plan's recent rollback times against its budget.
public enum HTMLReport {
    public static func render(_ run: Run, recent: [Run]) -> String {
        let status = statusLabel(run.status)
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <title>\(escape(run.planName)) – rehearsal \(run.id)</title>
            <style>\n\(css)</style></head><body>
            <h1>\(escape(run.planName)) <span class="verdict \(run.status.rawValue)">\(status)</span></h1>
            <div class="muted">run \(run.id)\(run.isLive ? " · <strong>live go-live</strong>" : "") · \(escape(run.strategy)) · target \(escape(run.target)) · \(TimestampText.local(run.startedAt, seconds: true)) · \(escape(run.user))@\(escape(run.host))\(run.gitCommit.map { " · commit " + $0.prefix(10) } ?? "")</div>

            """
        html += "<div class=\"figures\">"
        if let rollback = run.rollback {
            let cls = rollback > run.budget ? "bad" : "ok"
            html += "rollback <b class=\"\(cls)\">\(DurationText.precise(rollback))</b> of \(DurationText.compact(run.budget)) budget (\(HistoryText.percent(rollback, of: run.budget)))"
        } else {
            html += "no rollback was timed (budget \(DurationText.compact(run.budget)))"
        }
        if let forward = run.forward { html += " · forward \(DurationText.precise(forward))" }
        if let trigger = run.trigger { html += " · trigger: \(escape(trigger.description))" }
        html += "</div>\n"
        if !run.reasons.isEmpty || !run.leftApplied.isEmpty {
            html += "<ul>" + run.reasons.map { "<li class=\"bad\">\(escape($0.description))</li>" }.joined()
            if !run.leftApplied.isEmpty { html += "<li class=\"bad\">left applied: \(escape(run.leftApplied.joined(separator: ", ")))</li>" }
            html += "</ul>\n"
        }
        if let comparison = run.fingerprintComparison, !comparison.diff.isEmpty {
            html += "<h2>Fingerprint</h2>\n" + fingerprintDiff(comparison, logsFolder: run.logsFolder)
        }
        html += "<h2>Timeline</h2>\n" + timeline(run)
        html += "<h2>Steps</h2>\n" + table(run)
        html += "<h2>Recent rollbacks of \(escape(run.planName)) on \(escape(run.target))</h2>\n" + trend(recent.reversed(), highlight: run.id)
        html += "</body></html>\n"
        return html
    }

    /// The page's style sheet, shared by the run page and the every-cut page.
    static let css = """
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; margin: 24px 32px; max-width: 1200px; }
        h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
        .verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; font-weight: 600; color: #fff; }
        .passed { background: #1f883d; } .over-budget, .failed { background: #cf222e; } .interrupted, .abandoned, .running { background: #9a6700; }
        .figures { font-size: 15px; margin: 10px 0; } .figures b { font-size: 18px; }
        .muted { color: #59636e; } ul { margin: 6px 0; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #e5e8eb; }
        td.num { text-align: right; } .bad { color: #cf222e; font-weight: 600; } .ok { color: #1f883d; }
        svg text { font: 12px system-ui, sans-serif; fill: #1d2430; }
        pre.diff { background: #f6f8fa; padding: 8px 12px; overflow-x: auto; font-size: 12px; }
        .legend span { display: inline-block; margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }

        """

    /// The fingerprint's diff: counts, accepted differences with their reasons, and the first
    /// hunks, removed lines red and added ones green.
    private static func fingerprintDiff(_ comparison: FingerprintComparison, logsFolder: String?) -> String {
        let diff = comparison.diff
        var html = "<p>\(diff.removedCount) line\(diff.removedCount == 1 ? "" : "s") removed, \(diff.addedCount) added"
        if !comparison.accepted.isEmpty { html += " (\(comparison.accepted.count) accepted)" }
        html += comparison.differs ? ": <b class=\"bad\">the copy did not come back</b>" : ": every difference is accepted"
        html += "</p>\n"
        for reason in Set(comparison.accepted.map(\.reason)).sorted() {
            html += "<p class=\"muted\">accepted: \(escape(reason))</p>\n"
        }
        html += "<pre class=\"diff\">"
        var shown = 0
        for hunk in diff.hunks() where shown < 400 {
            html += "<span class=\"muted\">\(escape(hunk.header))</span>\n"
            for line in hunk.lines where shown < 400 {
                let text = escape(String(line.kind.rawValue) + PrintableText.of(line.text))
                let styled: String = switch line.kind {
                case .removed: "<span class=\"bad\">\(text)</span>\n"
                case .added: "<span class=\"ok\">\(text)</span>\n"
                case .context: text + "\n"
                }
                html += styled
                shown += 1
            }
        }
        html += "</pre>\n"
        if let logsFolder { html += "<p class=\"muted\">full before, after and diff: \(escape(logsFolder))/fingerprint.diff</p>\n" }
        return html
    }

    static let colours: [Activity.Kind: String] = [
        .setup: "#afb8c1", .teardown: "#afb8c1", .preflight: "#8c959f", .fingerprintBefore: "#8c959f",
        .fingerprintAfter: "#8c959f", .smoke: "#8c959f", .restored: "#8c959f", .kept: "#8c959f", .windowWrite: "#8250df", .forward: "#0969da", .rollback: "#bc4c00",
        .stop: "#bc4c00",
    ]

    private static func timeline(_ run: Run) -> String {
        let rows = run.activities.filter { $0.startOffset != nil }
        guard !rows.isEmpty else { return "<p class=\"muted\">nothing ran</p>\n" }
        let end = rows.map { ($0.startOffset ?? .zero) + ($0.duration ?? .zero) }.max() ?? .zero
        var span = max(end, .milliseconds(1))
        // Show the budget line when it fits on a readable scale.
        var budgetAt: Duration?
        if let trigger = run.triggerOffset {
            let line = trigger + run.budget
            if line <= span * 3 { budgetAt = line; span = max(span, line) }
        }
        let label = 290.0, width = 860.0, rowHeight = 20.0, top = 24.0
        let height = top + rowHeight * Double(rows.count) + 30
        func x(_ offset: Duration) -> Double { label + width * offset.seconds / span.seconds }
        var svg = "<svg width=\"\(Int(label + width + 50))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"timeline\">\n"
        // Axis ticks.
        for tick in 0...5 {
            let offset = span * Double(tick) / 5
            let position = x(offset)
            svg += "<line x1=\"\(position)\" y1=\"\(top - 6)\" x2=\"\(position)\" y2=\"\(height - 26)\" stroke=\"#eaeef2\"/>"
            svg += "<text x=\"\(position)\" y=\"\(height - 10)\" text-anchor=\"middle\" class=\"muted\">+\(DurationText.precise(offset))</text>\n"
        }
        for (index, activity) in rows.enumerated() {
            let y = top + rowHeight * Double(index)
            let start = activity.startOffset ?? .zero
            let barWidth = max(2, width * (activity.duration ?? .zero).seconds / span.seconds)
            let failed = ![.passed, .nothingToRun, .stopped, .injectedFailure].contains(activity.status)
            let name: String = switch activity.kind {
            case .forward, .rollback, .setup, .teardown: activity.kind.rawValue + " " + activity.name
            case .preflight, .smoke, .restored, .kept, .windowWrite: activity.kind.rawValue + ": " + activity.name
            case .fingerprintBefore: activity.name == "fingerprint" ? "fingerprint before" : activity.name
            case .fingerprintAfter: "fingerprint after"
            case .stop: "stop hook of " + activity.name
            }
            svg += "<text x=\"\(label - 8)\" y=\"\(y + 13)\" text-anchor=\"end\">\(escape(name.count > 42 ? name.prefix(41) + "…" : name))</text>"
            svg += "<rect x=\"\(x(start))\" y=\"\(y + 3)\" width=\"\(barWidth)\" height=\"\(rowHeight - 6)\" rx=\"2\" fill=\"\(colours[activity.kind] ?? "#8c959f")\"\(failed ? " stroke=\"#cf222e\" stroke-width=\"2\"" : "")>"
            svg += "<title>\(escape(name)): \(DurationText.precise(activity.duration ?? .zero)) from +\(DurationText.precise(start)), \(activity.status.rawValue)</title></rect>\n"
        }
        if let trigger = run.triggerOffset {
            svg += "<line x1=\"\(x(trigger))\" y1=\"\(top - 10)\" x2=\"\(x(trigger))\" y2=\"\(height - 26)\" stroke=\"#bc4c00\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(x(trigger) + 4)\" y=\"\(top - 12)\" fill=\"#bc4c00\">rollback trigger</text>\n"
        }
        if let budgetAt {
            svg += "<line x1=\"\(x(budgetAt))\" y1=\"\(top - 10)\" x2=\"\(x(budgetAt))\" y2=\"\(height - 26)\" stroke=\"#cf222e\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>"
            svg += "<text x=\"\(x(budgetAt) - 4)\" y=\"\(top - 12)\" text-anchor=\"end\" fill=\"#cf222e\">budget \(DurationText.compact(run.budget))</text>\n"
        }
        svg += "</svg>\n"
        var note = ""
        if budgetAt == nil, let rollback = run.rollback {
            note = "<p class=\"muted\">The budget line (\(DurationText.compact(run.budget)) after the trigger) is off this scale: the rollback used \(HistoryText.percent(rollback, of: run.budget)) of it.</p>\n"
        }
        let legend = "<div class=\"legend muted\"><span><i style=\"background:#0969da\"></i>forward step</span><span><i style=\"background:#bc4c00\"></i>rollback step</span><span><i style=\"background:#8c959f\"></i>check, fingerprint</span><span><i style=\"background:#afb8c1\"></i>setup, teardown</span><span><i style=\"border:2px solid #cf222e\"></i>failed</span></div>\n"
        return legend + svg + note
    }

    private static func table(_ run: Run) -> String {
        var html = "<table><tr><th>phase</th><th>name</th><th>start</th><th>took</th><th>result</th></tr>\n"
        for activity in run.activities {
            let ok = [.passed, .nothingToRun, .injectedFailure].contains(activity.status)
            var result = activity.status.rawValue
            if let code = activity.exitStatus, code != 0 { result += " (exit \(code))" }
            if activity.timedOut { result += " (timed out)" }
            html += "<tr><td>\(escape(activity.kind.rawValue))</td><td>\(escape(activity.name))</td>"
            html += "<td class=\"num\">\(activity.startOffset.map { "+" + DurationText.precise($0) } ?? "")</td>"
            html += "<td class=\"num\">\(activity.duration.map(DurationText.precise) ?? "")</td>"
            html += "<td class=\"\(ok ? "ok" : "bad")\">\(escape(result))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    private static func trend(_ runs: [Run], highlight: Int64) -> String {
        let timed = runs.filter { $0.rollback != nil }
        guard !timed.isEmpty else { return "<p class=\"muted\">no timed rollbacks yet</p>\n" }
        let top = timed.map { max($0.rollback!, $0.budget) }.max()!
        let highestRollback = timed.map { $0.rollback! }.max()!
        // When every rollback is far under budget, scale to the rollbacks and say where the budget is.
        let scale = highestRollback * 4 < top ? highestRollback * 1.25 : top * 1.1
        let width = 900.0, height = 180.0, left = 60.0
        let barWidth = min(40, width / Double(timed.count) - 6)
        func y(_ value: Duration) -> Double { height - height * min(1, value.seconds / scale.seconds) }
        var svg = "<svg width=\"\(Int(left + width + 20))\" height=\"\(Int(height + 40))\" role=\"img\" aria-label=\"recent rollback times\">\n"
        svg += "<text x=\"\(left - 6)\" y=\"12\" text-anchor=\"end\">\(DurationText.precise(scale))</text><text x=\"\(left - 6)\" y=\"\(height)\" text-anchor=\"end\">0</text>\n"
        for (index, run) in timed.enumerated() {
            let x = left + Double(index) * (width / Double(timed.count)) + 3
            let value = run.rollback!
            let colour = value > run.budget ? "#cf222e" : (run.id == highlight ? "#bc4c00" : "#f0b07a")
            svg += "<rect x=\"\(x)\" y=\"\(y(value))\" width=\"\(barWidth)\" height=\"\(height - y(value))\" fill=\"\(colour)\"><title>run \(run.id): \(DurationText.precise(value)) of \(DurationText.compact(run.budget))</title></rect>"
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(height + 16)\" text-anchor=\"middle\" class=\"muted\">\(run.id)</text>\n"
        }
        var note = ""
        if timed.last!.budget <= scale {
            let line = y(timed.last!.budget)
            svg += "<line x1=\"\(left)\" y1=\"\(line)\" x2=\"\(left + width)\" y2=\"\(line)\" stroke=\"#cf222e\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"\(left + width)\" y=\"\(line - 4)\" text-anchor=\"end\" fill=\"#cf222e\">budget \(DurationText.compact(timed.last!.budget))</text>\n"
        } else {
            note = "<p class=\"muted\">Budget \(DurationText.compact(timed.last!.budget)) is above this scale: the slowest rollback shown used \(HistoryText.percent(highestRollback, of: timed.last!.budget)) of it.</p>\n"
        }
        svg += "<text x=\"\(left + width / 2)\" y=\"\(height + 34)\" text-anchor=\"middle\" class=\"muted\">run</text></svg>\n"
        return svg + note
    }

    static func statusLabel(_ status: RunStatus) -> String {
        switch status {
        case .passed: "PASSED"
        case .overBudget: "OVER BUDGET"
        case .failed: "FAILED"
        case .interrupted: "INTERRUPTED"
        case .abandoned: "ABANDONED"
        case .running: "RUNNING"
        case .applied: "APPLIED"
        case .rolledBack: "ROLLED BACK"
        case .completed: "COMPLETED"
        }
    }

    static func escape(_ text: String) -> String {
        JUnitReport.escape(text, quotes: true)
    }
}

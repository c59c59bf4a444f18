import Foundation
public import RehearseCore

extension HTMLReport {
    /// One self-contained page for an every-cut group: the matrix of cuts (what each applied, its
    /// rollback time as a bar against the budget, its verdict), the worst case, and what went
    /// wrong in each cut that did not pass.
    public static func renderGroup(_ runs: [Run], group: RunGroup, cuts: [Cut?]) -> String {
        guard let first = runs.first else { return "" }
        let worst = CutMatrixText.worst(runs)
        let passed = runs.count == cuts.count && runs.allSatisfy { $0.status == .passed }
        let overall: RunStatus = passed ? .passed : (worst?.status == .passed ? .running : worst?.status ?? .running)
        let verdict = passed ? "ALL CUTS PASSED" : runs.count < cuts.count ? "INCOMPLETE" : "NOT ALL CUTS PASSED"
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <title>\(escape(first.planName)) – every cut point</title>
            <style>\n\(css)</style></head><body>
            <h1>\(escape(first.planName)): every cut point <span class="verdict \(passed ? "passed" : overall.rawValue)">\(verdict)</span></h1>
            <div class="muted">group \(escape(group.id))\(group.shard.map { " · shard " + escape($0) } ?? "") · \(cuts.count) rehearsals · \(escape(first.strategy)) · target \(escape(first.target)) · \(TimestampText.local(first.startedAt, seconds: true))</div>

            """
        if let worst {
            html += "<div class=\"figures\">worst: \(escape(CutMatrixText.name(worst.cut)))"
            if let rollback = worst.rollback {
                let cls = rollback > worst.budget ? "bad" : "ok"
                html += ", rollback <b class=\"\(cls)\">\(DurationText.precise(rollback))</b> of \(DurationText.compact(worst.budget)) budget (\(HistoryText.percent(rollback, of: worst.budget)))"
            }
            html += " · \(statusLabel(worst.status))</div>\n"
        }
        let scale = max(runs.compactMap(\.rollback).max() ?? .zero, first.budget)
        html += "<h2>Cuts</h2>\n<table><tr><th>run</th><th>cut</th><th>applied</th><th class=\"num\">rollback</th><th>against the budget</th><th>verdict</th></tr>\n"
        for cut in cuts {
            guard let run = runs.first(where: { $0.cut == cut }) else {
                html += "<tr><td></td><td>\(escape(CutMatrixText.name(cut)))</td><td></td><td></td><td></td><td class=\"muted\">not run</td></tr>\n"
                continue
            }
            let rollback = run.rollback ?? .zero
            let width = Int(240 * min(1, rollback.seconds / max(scale.seconds, 1e-9)))
            let budgetX = Int(240 * min(1, run.budget.seconds / max(scale.seconds, 1e-9)))
            let colour = rollback > run.budget ? "#cf222e" : "#bc4c00"
            let bar = "<svg width=\"250\" height=\"14\" role=\"img\" aria-label=\"rollback against budget\"><rect x=\"0\" y=\"2\" width=\"\(width)\" height=\"10\" fill=\"\(colour)\"/><line x1=\"\(budgetX)\" y1=\"0\" x2=\"\(budgetX)\" y2=\"14\" stroke=\"#cf222e\" stroke-width=\"2\"/></svg>"
            let cls = run.status == .passed ? "ok" : "bad"
            html += "<tr><td class=\"num\">\(run.id)</td><td>\(escape(CutMatrixText.name(cut)))</td><td>\(run.appliedStepCount) of \(run.stepCount.map(String.init) ?? "?")</td>"
            html += "<td class=\"num\">\(run.rollback.map(DurationText.precise) ?? "-")</td><td>\(bar)</td><td class=\"\(cls)\">\(statusLabel(run.status))</td></tr>\n"
        }
        html += "</table>\n<p class=\"muted\">The red line is the budget (\(DurationText.compact(first.budget))).</p>\n"
        let failing = runs.filter { $0.status != .passed }
        if !failing.isEmpty {
            html += "<h2>What went wrong</h2>\n"
            for run in failing {
                html += "<h3>\(escape(CutMatrixText.name(run.cut))) (run \(run.id)): \(statusLabel(run.status))</h3><ul>"
                if let trigger = run.trigger { html += "<li>rollback trigger: \(escape(trigger.description))</li>" }
                html += run.reasons.map { "<li class=\"bad\">\(escape($0.description))</li>" }.joined()
                if !run.leftApplied.isEmpty { html += "<li class=\"bad\">left applied: \(escape(run.leftApplied.joined(separator: ", ")))</li>" }
                html += "</ul>\n"
            }
        }
        html += "</body></html>\n"
        return html
    }
}

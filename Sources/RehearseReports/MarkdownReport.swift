import Foundation
public import RehearseCore

/// A Markdown summary fit for a pull request or a CI summary page: one table row per rehearsal,
/// then, for each that did not pass, why, and what to change.
public enum MarkdownReport {
    public static func render(_ runs: [Run]) -> String {
        var lines = ["## Rollback rehearsal", ""]
        lines.append("| plan | target | outcome | rollback | budget | forward | run |")
        lines.append("| --- | --- | --- | ---: | ---: | ---: | ---: |")
        for run in runs {
            let rollback = run.rollback.map(DurationText.precise) ?? "–"
            let budget = DurationText.compact(run.budget) + (run.rollback.map { " (\(HistoryText.percent($0, of: run.budget)))" } ?? "")
            lines.append("| \(cell(run.planName)) | \(cell(run.target))\(run.isLive ? " (live)" : "") | \(outcome(run.status)) | \(rollback) | \(budget) | \(run.forward.map(DurationText.precise) ?? "–") | \(run.id) |")
        }
        // Differences a passing run's fingerprint showed and the plan accepts: said, not hidden.
        for run in runs where run.status == .passed {
            guard let comparison = run.fingerprintComparison, !comparison.accepted.isEmpty else { continue }
            lines.append("")
            for reason in Set(comparison.accepted.map(\.reason)).sorted() {
                lines.append("- \(cell(run.planName)): accepted fingerprint difference: \(cell(reason))")
            }
        }
        for run in runs where run.status != .passed {
            lines.append("")
            lines.append("### \(cell(run.planName)): \(outcome(run.status))")
            if let trigger = run.trigger { lines.append("- rollback trigger: \(cell(trigger.description))") }
            if let rollback = run.rollback, rollback > run.budget {
                lines.append("- rollback took **\(DurationText.precise(rollback))**, budget \(DurationText.compact(run.budget)) (over by \(DurationText.precise(rollback - run.budget)))")
                let slowest = run.activities.filter { $0.kind == .rollback && $0.duration != nil }
                    .sorted { $0.duration! > $1.duration! }.prefix(3)
                    .map { "`\($0.name)` \(DurationText.precise($0.duration!))" }
                if !slowest.isEmpty { lines.append("- slowest rollback steps: " + slowest.joined(separator: ", ")) }
            }
            for reason in run.reasons { lines.append("- \(cell(reason.description))") }
            if let comparison = run.fingerprintComparison, !comparison.accepted.isEmpty {
                for reason in Set(comparison.accepted.map(\.reason)).sorted() { lines.append("- accepted fingerprint difference: \(cell(reason))") }
            }
            if let comparison = run.fingerprintComparison, comparison.differs {
                let diff = comparison.diff
                lines.append("")
                lines.append("<details><summary>fingerprint: \(diff.removedCount) lines removed, \(diff.addedCount) added</summary>")
                lines.append("")
                lines.append("```diff")
                lines.append(PrintableText.of(diff.unifiedExcerpt(limit: 60)).replacingOccurrences(of: "```", with: "` ` `"))
                lines.append("```")
                lines.append("</details>")
                lines.append("")
            }
            if !run.leftApplied.isEmpty {
                lines.append("- **left applied:** \(run.leftApplied.map { "`\($0)`" }.joined(separator: ", ")) (`rehearse recover \(run.id)`)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// GitHub Actions workflow commands for the runs that did not pass: an error annotation on
    /// the plan file each.
    public static func githubAnnotations(_ runs: [Run], planPaths: [Int64: String]) -> [String] {
        runs.filter { $0.status != .passed }.map { run in
            var message = "\(run.planName) on \(run.target): \(run.status.rawValue)"
            if let rollback = run.rollback, rollback > run.budget {
                message += ", rollback took \(DurationText.precise(rollback)), budget \(DurationText.compact(run.budget))"
            }
            if let reason = run.reasons.first { message += "; \(reason.description)" }
            let file = planPaths[run.id] ?? run.planFile
            return "::error file=\(escapeProperty(file)),title=\(escapeProperty("rollback rehearsal \(run.status.rawValue)"))::\(escapeData(message))"
        }
    }

    private static func outcome(_ status: RunStatus) -> String {
        switch status {
        case .passed: "✅ passed"
        case .overBudget: "❌ over budget"
        case .failed: "❌ failed"
        case .interrupted: "⚠️ interrupted"
        case .abandoned: "⚠️ abandoned"
        case .running: "running"
        case .applied: "✅ applied (live)"
        case .rolledBack: "↩️ rolled back (live)"
        case .completed: "✅ completed (live)"
        }
    }

    private static func cell(_ text: String) -> String {
        MarkdownText.inline(text)
    }

    private static func escapeData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    private static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}

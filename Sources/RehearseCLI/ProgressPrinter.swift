import Foundation
import RehearseCore
import RehearseReports
import RehearseRunner

/// Prints a rehearsal as it happens, one line per activity start and end, each stamped with the
/// wall-clock time and the offset from the start of the run. Colour and symbols only on a
/// terminal; plain words otherwise, with no control characters.
struct ProgressPrinter: RunObserver {
    var console: Console
    var style: TextStyle
    var verbose: Bool
    /// On a terminal: the running steps and the budget left, redrawn below the progress lines.
    var live: LiveStatusLine?

    /// Prints a progress line (above the live status line, when there is one).
    func line(_ text: String) {
        if let live { live.print(text) } else { console.out(text) }
    }

    private var fancy: Bool { style.isEnabled }

    func handle(_ event: RunEvent) async {
        switch event {
        case .runStarted(let header):
            let plan = header.plan
            live?.runStarted(budget: plan.budget.rollback)
            let analysis = StepGraph(steps: plan.steps)
            let rehearsed = analysis.rehearsable().count
            var line = style.bold(plan.name) + " on \(header.target) (run \(header.runID)): \(rehearsed) of \(plan.steps.count) steps rehearsed"
            line += ", rollback budget \(DurationText.compact(plan.budget.rollback))"
            if let failAt = header.failAt { line += ", cut at \(failAt)" }
            self.line(line)
        case .activityStarted(let activity, let offset):
            live?.began(activity)
            guard verbose || activity.kind.isStep || activity.kind == .setup || activity.kind == .teardown else { return }
            line(stamp(offset) + mark("start", "▶", style.dim) + describe(activity))
        case .activityFinished(let execution):
            live?.ended(execution.activity)
            finished(execution)
        case .rollbackTriggered(let trigger):
            live?.rollbackStarted(at: trigger.offset)
            let what = trigger.reason == .rehearsal ? "rolling back" : "rollback triggered: \(trigger.description)"
            line(stamp(trigger.offset) + mark("----", "↺", style.yellow) + style.bold(what))
        case .runFinished:
            break
        }
    }

    private func finished(_ execution: Execution) {
        let activity = execution.activity
        let offset = execution.outcome?.endOffset
        switch execution.status {
        case .passed:
            let took = execution.outcome.map { " " + style.dim(DurationText.precise($0.duration)) } ?? ""
            line(stamp(offset) + mark("ok", "✓", style.green) + describe(activity) + took)
        case .nothingToRun:
            if verbose { line(stamp(offset) + mark("skip", "·", style.dim) + describe(activity) + style.dim(" (rollback: none)")) }
        case .injectedFailure:
            line(stamp(offset) + mark("CUT", "✂", style.yellow) + describe(activity) + " (--fail-at: counted as failed, not run)")
        case .blocked, .abandoned:
            line(stamp(offset) + mark("SKIP", "–", style.red) + describe(activity) + " (\(execution.status.rawValue))")
        case .failed, .timedOut, .stopped:
            let how = execution.outcome?.summary ?? execution.status.rawValue
            let took = execution.outcome.map { " after \(DurationText.precise($0.duration))" } ?? ""
            let word = execution.status == .stopped ? "STOP" : "FAIL"
            line(stamp(offset) + mark(word, "✗", style.red) + describe(activity) + " \(how)\(took)")
            if execution.status != .stopped, let outcome = execution.outcome {
                if !outcome.outputTail.isEmpty {
                    for text in outcome.outputTail.split(separator: "\n", omittingEmptySubsequences: false).suffix(10) {
                        line("             | " + text)
                    }
                }
                if let log = outcome.logFile { line("             " + style.dim("full output: \(log)")) }
            }
        }
    }

    private func describe(_ activity: Activity) -> String {
        let label: String
        switch activity.kind {
        case .fingerprintBefore, .fingerprintAfter: label = "fingerprint"
        default: label = activity.kind.rawValue
        }
        return label.padded(to: 11) + " " + activity.name
    }

    private func mark(_ plain: String, _ symbol: String, _ colour: (String) -> String) -> String {
        fancy ? colour(symbol) + " " : plain.padded(to: 5) + " "
    }

    private func stamp(_ offset: Duration?) -> String {
        let offsetText = offset.map { "+" + DurationText.precise($0) } ?? ""
        let padded = offsetText.count < 9 ? String(repeating: " ", count: 9 - offsetText.count) + offsetText : offsetText
        if fancy { return style.dim(padded) + "  " }
        return TimestampText.clock() + " " + padded + "  "
    }
}

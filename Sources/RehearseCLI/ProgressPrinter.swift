import Foundation
import RehearseCore
import RehearseReports
import RehearseRunner
import Synchronization

/// Prints rehearsals as they happen: a header per run, one line per activity start and end, each
/// stamped with the wall-clock time and the offset from the start of the run, and the verdict at
/// the end. Colour and symbols only on a terminal; plain words otherwise, with no control characters.
final class ProgressPrinter: RunObserver {
    let console: Console
    let style: TextStyle
    let verbose: Bool
    /// On a terminal: the running steps and the budget left, redrawn below the progress lines.
    let live: LiveStatusLine?
    /// How many runs this printer has shown, to separate them with a blank line.
    private let runsShown = Mutex(0)
    /// The plan of the run being shown: the timeout a timed-out command had.
    private let plan = Mutex<Plan?>(nil)

    init(console: Console, style: TextStyle, verbose: Bool, live: LiveStatusLine? = nil) {
        self.console = console
        self.style = style
        self.verbose = verbose
        self.live = live
    }

    /// Prints a progress line (above the live status line, when there is one).
    /// With `--verbose`, progress lines go out on the live-output queue, so that they stay in
    /// order with the commands' own lines.
    func line(_ text: String) {
        if verbose {
            LiveOutput.post { [self] in emit(text) }
        } else {
            emit(text)
        }
    }

    /// Writes a line now (above the live status line, when there is one). The `--verbose` lines
    /// come here on the live-output queue.
    func emit(_ text: String) {
        if let live { live.print(text) } else { console.out(text) }
    }

    private var fancy: Bool { style.isEnabled }

    func handle(_ event: RunEvent) async {
        switch event {
        case .runStarted(let run, let plan):
            self.plan.withLock { $0 = plan }
            if runsShown.withLock({ count in defer { count += 1 }; return count }) > 0 { console.out("") }
            live?.start()
            live?.runStarted(budget: plan.budget.rollback)
            let rehearsed = plan.graph.rehearsable().count
            var line = (run.isLive ? style.red(style.bold("LIVE")) + " " : "") + style.bold(plan.name) + " on \(run.target) (run \(run.id)): "
            // With a cut, only the steps before it run: the verdict counts them.
            line += run.isLive ? "\(rehearsed) of \(plan.steps.count) steps, up to the point of no return" : run.cut.map { "\($0.phrase) (up to \(rehearsed) of \(plan.steps.count) steps)" }
                ?? "\(rehearsed) of \(plan.steps.count) steps rehearsed"
            line += ", rollback budget \(DurationText.compact(plan.budget.rollback))"
            self.line(line)
        case .activityStarted(let activity, let offset):
            live?.began(activity)
            guard verbose || activity.kind.isStep || activity.kind == .stop || activity.kind == .setup || activity.kind == .teardown else { return }
            line(stamp(offset) + mark("start", "▶", style.dim) + describe(activity))
        case .activityFinished(let record):
            live?.ended(record.activity)
            finished(record)
        case .fingerprintTaken, .controlFingerprintTaken:
            break
        case .rollbackTriggered(let trigger):
            live?.rollbackStarted(at: trigger.offset)
            let what = trigger.reason == .rehearsal ? "rolling back" : "rollback triggered: \(trigger.description)"
            line(stamp(trigger.offset) + mark("----", "↺", style.yellow) + style.bold(what))
        case .runFinished(let run):
            let verdict = VerdictText(style: style).render(run)
            let finish: @Sendable () -> Void = { [live, console] in
                live?.stop()
                console.out(verdict)
            }
            if verbose {
                LiveOutput.post(finish)
                LiveOutput.drain()  // the run is over: its output is all out before anything else
            } else {
                finish()
            }
        }
    }

    private func finished(_ record: ActivityRecord) {
        let activity = record.activity
        let offset = record.endOffset
        switch record.status {
        case .passed:
            let took = record.duration.map { " " + style.dim(DurationText.precise($0)) } ?? ""
            line(stamp(offset) + mark("ok", "✓", style.green) + describe(activity) + took)
        case .assumedDone:
            line(stamp(offset) + mark("ok", "✓", style.yellow) + describe(activity) + " (assumed done by the operator: --assume-done)")
        case .nothingToRun:
            if verbose { line(stamp(offset) + mark("skip", "·", style.dim) + describe(activity) + style.dim(" (rollback: none)")) }
        case .injectedFailure:
            line(stamp(offset) + mark("CUT", "✂", style.yellow) + describe(activity) + " (--fail-at: counted as failed, not run)")
        case .blocked, .abandoned:
            line(stamp(offset) + mark("SKIP", "–", style.red) + describe(activity) + " (\(record.status.rawValue))")
        case .failed, .timedOut, .stopped, .running, .inFlight:
            let took = record.duration.map { " after \(DurationText.precise($0))" } ?? ""
            let word = record.status == .stopped ? "STOP" : "FAIL"
            // Stopped before its process existed (a signal, or a start the journal could not record).
            var summary = record.status == .stopped && record.termination == nil ? "stopped before it started" : record.summary + took
            // "timed out after 2s, stopped 1s later": the limit, then how long stopping it took.
            if record.status == .timedOut || record.timedOut, let limit = timeLimit(of: activity), let duration = record.duration {
                summary = "timed out after \(DurationText.compact(limit))"
                if duration > limit { summary += ", stopped \(DurationText.precise(duration - limit)) later" }
            } else if activity.kind == .stop, record.status == .timedOut || record.timedOut, let duration = record.duration {
                // A stop hook has the kill grace, not a timeout of the plan's.
                summary = "did not finish within the kill grace: stopped after \(DurationText.precise(duration))"
            }
            line(stamp(offset) + mark(word, "✗", style.red) + describe(activity) + " \(summary)")
            if record.status != .stopped, record.ran {
                if let tail = record.outputTail, !tail.isEmpty {
                    for text in tail.split(separator: "\n", omittingEmptySubsequences: false).suffix(10) {
                        line("             | " + text)
                    }
                }
                if let log = record.logFile { line("             " + style.dim("full output: \(log)")) }
            }
        }
    }

    /// The timeout the plan gave this activity's command.
    private func timeLimit(of activity: Activity) -> Duration? {
        guard let plan = plan.withLock({ $0 }) else { return nil }
        if activity.kind.isStep, let step = plan.step(withID: activity.name) { return plan.timeout(for: step) }
        // (A stop hook's limit is the kill grace, which the plan does not hold.)
        let checks: [Check] = switch activity.kind {
        case .preflight: plan.checks.preflight
        case .smoke: plan.checks.smoke
        case .restored: plan.checks.restored
        default: []
        }
        if let check = checks.first(where: { $0.name == activity.name }) { return check.command.timeout ?? plan.budget.stepTimeout }
        return nil
    }

    private func describe(_ activity: Activity) -> String {
        activity.kind.label.padded(to: 11) + " " + activity.name
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

import ArgumentParser
import Foundation
import RehearseCore
import RehearseEngine
import RehearseReports
import RehearseRunner
import RehearseStore

/// `rehearse recover`: roll back what an interrupted or killed run left applied.
struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Roll back what an interrupted, abandoned or failed run left applied, from the history's journal.",
        discussion: """
            Rolls back, in reverse dependency order, exactly the steps the journal shows were \
            started and not rolled back, using the plan text recorded with that run (the file may \
            have changed since), against the same target (and copy), then verifies as a rehearsal \
            does: the plan's restored checks run, and the fingerprint must match the one the run \
            took before its forward steps. When the run's teardown ran, or a later run's setup made \
            the copy afresh, the copy is gone: nothing is rolled back against it. What it does is recorded in the same run. Exit status: 0 when \
            nothing is left applied and the copy is verified, 2 otherwise, 70 when the history \
            cannot be written.

            A rollback that was in flight when a harness died is uncertain: its effect may be done, \
            and running it again may fail. Once you have checked the target, --assume-done STEP \
            records that it completed and it is not run again. One recovery of a run runs at a \
            time; a recovery that is itself killed leaves the run abandoned again, and the next \
            one stops the processes it left and goes on from there.

            Examples:
              rehearse recover            # the latest run with steps left applied
              rehearse recover 41
              rehearse recover 41 --approve production
              rehearse recover 41 --assume-done drop-column   # its effect is done
            """)

    @Argument(help: ArgumentHelp("The run to recover (default: the latest run with steps left applied).", valueName: "run"))
    var runID: Int64?

    @Option(name: .long, help: ArgumentHelp("Allow a protected target: must name it exactly.", valueName: "target"))
    var approve: String?

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL when stopping a step (default: 5s).", valueName: "duration"),
            transform: ArgumentTypes.killGrace)
    var killGrace: Duration = .seconds(5)

    @OptionGroup var waitOption: WaitOption

    @Option(name: .customLong("assume-done"), help: ArgumentHelp("A rollback that completed although the journal cannot show it (it was in flight when a harness died): recorded as done, not run again. Repeatable.", valueName: "step"))
    var assumeDone: [String] = []

    @OptionGroup var historyOptions: HistoryOptions

    func run() async throws {
        let console = Console()
        var failed = false
        var harnessFault = false
        try await console.reportingErrors {
            guard let store = try await historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
            let control = RunControl()
            let watcher = SignalWatcher(control: control, console: console)
            defer { watcher.stop() }
            let printer = ProgressPrinter(console: console, style: console.outStyle, verbose: false)
            var request = RecoveryRequest(runID: runID, approve: approve, killGrace: killGrace)
            request.assumeDone = assumeDone
            request.wait = waitOption.wait
            let outcome: RecoveryOutcome
            do throws(EngineError) {
                outcome = try await RehearsalEngine(toolVersion: Rehearse.version).recover(
                    request, history: store,
                    observer: printer, control: control,
                    willRollBack: { run, steps in
                        console.out("recovering run \(run.id) (\(run.planName) on \(run.target)): rolling back \(steps.joined(separator: ", "))")
                        for step in run.uncertainRollbacks where steps.contains(step) {
                            console.out("  uncertain: the rollback of '\(step)' was in flight when the harness died; it may have taken effect")
                        }
                    },
                    warn: { console.err("warning: " + $0) })
            } catch {
                if case .invalidPlan(let diagnostics, let source) = error.code {
                    console.err(DiagnosticText(style: console.errStyle).render(diagnostics, source: source))
                }
                throw CLIError(error)
            }
            switch outcome {
            case .refused(let problem):
                throw CLIError(problem, consequence: "nothing was rolled back")
            case .nothingToRecover(nil):
                console.out("nothing to recover: no recorded run has steps left applied")
            case .nothingToRecover(let run?):
                console.out("run \(run.id) (\(run.planName)): nothing is left applied")
            case .copyGone(let run):
                let teardown = run.activities.last { $0.kind == .teardown }
                console.out("run \(run.id) (\(run.planName) on \(run.target)): its teardown ran"
                            + (teardown?.endOffset.map { " at +\(DurationText.precise($0))" } ?? "")
                            + ": the copy its steps changed is gone, so nothing was rolled back against it")
                console.out("  left applied then: \(run.leftApplied.joined(separator: ", ")); rehearse again on a fresh copy once the rollback is fixed")
            case .copyRemade(let run, let later):
                let how = later.tookDownItsCopy && !later.activities.contains { $0.kind == .setup && $0.status == .passed }
                    ? "taken the copy down with its target's teardown" : "made the copy afresh with its target's setup"
                console.out("run \(run.id) (\(run.planName) on \(run.target)): run \(later.id) (\(later.planName)) has since \(how),"
                            + " so nothing was rolled back against what is there now")
                console.out("  left applied then: \(run.leftApplied.joined(separator: ", ")); gone with the copy it was on")
            case .recovered(let run, let left, let problems):
                failed = !left.isEmpty || !problems.isEmpty
                harnessFault = problems.contains { if case .historyUnwritable = $0 { true } else { false } }
                if left.isEmpty {
                    console.out("run \(run.id): recovered; nothing is left applied")
                } else {
                    console.out("run \(run.id): still applied: \(left.joined(separator: ", "))")
                    // A rollback whose effect a killed harness already made fails when run again.
                    for step in run.uncertainRollbacks where left.contains(step) {
                        console.out("  the rollback of '\(step)' was in flight when a harness died: if its effect is done (check the target), "
                                    + "say so with 'rehearse recover \(run.id) --assume-done \(step)'")
                    }
                }
                if problems.isEmpty {
                    var what = ["restored checks passed"]
                    if run.fingerprintBefore != nil, run.fingerprintAfter != nil { what.append("the fingerprint matches the one taken before the run") }
                    console.out("  verified: " + what.joined(separator: "; "))
                } else {
                    console.out("  " + console.outStyle.red("not verified:"))
                    for problem in problems { console.out("  - " + problem.description) }
                    if let comparison = run.fingerprintComparison, comparison.differs {
                        let diff = comparison.diff
                        console.out("  fingerprint: \(diff.removedCount) lines removed, \(diff.addedCount) added"
                                    + (run.logsFolder.map { "; full diff: \($0)/recovery-fingerprint.diff" } ?? ""))
                    }
                }
            }
        }
        if harnessFault { throw ExitCodes.internalError }
        if failed { throw ExitCodes.failed }
    }
}

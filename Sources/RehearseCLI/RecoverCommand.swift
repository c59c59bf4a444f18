import ArgumentParser
import Foundation
import RehearseCore
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
            have changed since), against the same target. What it does is recorded in the same run. \
            Exit status: 0 when nothing is left applied, 2 when something still is.

            Examples:
              rehearse recover            # the latest run with steps left applied
              rehearse recover 41
              rehearse recover 41 --approve production
            """)

    @Argument(help: ArgumentHelp("The run to recover (default: the latest run with steps left applied).", valueName: "run"))
    var runID: Int64?

    @Option(name: .long, help: ArgumentHelp("Allow a protected target: must name it exactly.", valueName: "target"))
    var approve: String?

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL when stopping a step.", valueName: "duration"))
    var killGrace: String = "5s"

    @OptionGroup var historyOptions: HistoryOptions

    func run() async throws {
        let console = Console()
        var work: (HistoryStore, RecordedRun, Plan)?
        try console.reportingErrors {
            guard let store = try historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
            let recorded: RecordedRun?
            do throws(HistoryError) {
                let id: Int64? = if let runID { runID } else { try store.latestRecoverableRunID() }
                recorded = if let id { try store.run(id: id) } else { nil }
            } catch {
                throw CLIError.history(error)
            }
            guard let recorded else {
                if let runID { throw CLIError.usage("there is no run \(runID) in \(store.path)", fix: "'rehearse history' lists the runs") }
                console.out("nothing to recover: no recorded run has steps left applied")
                return
            }
            if recorded.status == .running {
                throw CLIError.usage("run \(recorded.id) is still running (pid \(recorded.pid) on \(recorded.host))",
                                     fix: "interrupt it (Ctrl-C rolls it back), or wait for it to end")
            }
            if recorded.stillApplied.isEmpty {
                console.out("run \(recorded.id) (\(recorded.planName)): nothing is left applied")
                return
            }
            let parsed = PlanParser().parse(recorded.planText, file: recorded.planFile, defaultName: recorded.planName)
            guard let plan = parsed.plan else {
                console.err(DiagnosticText(style: console.errStyle).render(parsed.diagnostics, source: recorded.planText))
                throw CLIError(kind: .invalidPlan, message: "the plan recorded with run \(recorded.id) no longer parses")
            }
            if let target = plan.target(named: recorded.target), target.isProtected, approve != target.name {
                throw CLIError.usage("run \(recorded.id) was against protected target '\(target.name)': nothing was rolled back",
                                     fix: "pass --approve \(target.name) to roll back there")
            }
            work = (store, recorded, plan)
        }
        guard let (store, recorded, plan) = work else { return }

        let applied = recorded.stillApplied
        console.out("recovering run \(recorded.id) (\(recorded.planName) on \(recorded.target)): rolling back \(applied.joined(separator: ", "))")
        let logs = URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("logs/\(recorded.id)")
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let control = RunControl()
        let watcher = SignalWatcher(control: control, console: console)
        let options = RehearsalOptions(
            runID: String(recorded.id), target: recorded.target, jobs: RehearsalOptions.defaultJobs,
            killGrace: (try? DurationText.parse(killGrace)) ?? .seconds(5), logsFolder: logs.path)
        let observer = ObserverGroup([
            JournalObserver(store: store, runID: recorded.id, console: console),
            ProgressPrinter(console: console, style: console.outStyle, verbose: false),
        ])
        let recovery = await Rehearsal(plan: plan, options: options, observer: observer, control: control).rollBack(applied: applied)
        watcher.stop()
        do {
            try store.recordRecovery(run: recorded.id, stillApplied: recovery.stillApplied)
        } catch {
            console.err("warning: cannot record the recovery in \(error.path): \(error.message)")
        }
        if recovery.stillApplied.isEmpty {
            console.out("run \(recorded.id): recovered; nothing is left applied")
        } else {
            console.out("run \(recorded.id): still applied: \(recovery.stillApplied.joined(separator: ", "))")
            throw ExitCodes.failed
        }
    }
}

import ArgumentParser
import Foundation
import RehearseCore
import RehearseReports
import RehearseRunner
import RehearseEngine
import RehearseStore

/// `rehearse run` (the default command): rehearse plans against a target and time the rollbacks.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Rehearse plans against a target: run the forward steps, roll back, time the rollback against its budget.",
        discussion: """
            Each plan runs: target setup, preflight checks, fingerprint, forward steps, smoke checks, \
            then the rollback trigger, rollback steps, restored checks, fingerprint, target teardown. \
            Rollback time runs from the trigger until the last rollback step and restored check end.

            Exit status: 0 passed; 1 a rollback exceeded its budget (everything else passed); \
            2 a step, check or fingerprint failed; 64 usage error; 65 invalid plan; 70 internal \
            error (the history cannot be used or written: nothing runs); 129/130/143 \
            interrupted by SIGHUP/SIGINT/SIGTERM, after the rollback the interruption triggered. With \
            several plans the worst outcome decides.

            The first Ctrl-C stops the forward steps and rolls back what was applied; a second one \
            abandons the rollback and says what is left applied.

            Examples:
              # every plan in Rehearsals/
              rehearse --target copy
              rehearse run Rehearsals/checkout.yml --target copy --jobs 4
              # rehearse the rollback from a cut point
              rehearse run Rehearsals/checkout.yml --fail-at switch
              rehearse Rehearsals/checkout.yml --target production --approve production
              # for CI
              rehearse --target copy --junit rehearsal.xml --json rehearsal.json

            On GitHub Actions, a Markdown summary is appended to $GITHUB_STEP_SUMMARY and failures \
            are printed as ::error annotations on the plan file.
            """)

    @Argument(help: "Plan files to rehearse (default: every .yml plan in the nearest Rehearsals/ folder).")
    var plans: [String] = []

    @Option(name: .long, help: "The target to rehearse against.")
    var target: String = "copy"

    @Option(name: .shortAndLong, help: "How many independent steps may run at once.")
    var jobs: Int = RehearsalOptions.defaultJobs

    @Option(name: .customLong("fail-at"), help: ArgumentHelp("Cut the forward steps at this step: it counts as failed, without running, and the rollback starts there.", valueName: "step"))
    var failAt: String?

    @Option(name: .long, help: ArgumentHelp("Allow a protected target: must name it exactly.", valueName: "target"))
    var approve: String?

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL when stopping a step (default: 5s).", valueName: "duration"),
            transform: ArgumentTypes.duration)
    var killGrace: Duration = .seconds(5)

    @Flag(name: .shortAndLong, help: "Stream every command's output live, prefixed with its step.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("Also write JUnit XML here (one test suite per plan).", valueName: "file"))
    var junit: String?

    @Option(name: .long, help: ArgumentHelp("Also write the complete run records as JSON here.", valueName: "file"))
    var json: String?

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        let console = Console()
        let engine = RehearsalEngine(toolVersion: Rehearse.version)
        let style = console.outStyle
        let statusLine = console.stdoutIsTerminal && console.environment["TERM"] != "dumb" ? LiveStatusLine(style: style) : nil
        let printer = ProgressPrinter(console: console, style: style, verbose: verbose, live: statusLine)
        let request = RehearsalRequest(target: target, approve: approve, failAt: failAt, jobs: jobs, killGrace: killGrace,
                                       liveOutput: verbose ? liveOutput(printer) : nil)
        var work: [(plan: Plan, history: HistoryStore)] = []
        try await console.reportingErrors {
            let plans = try loadPlans(console: console)
            if let problem = engine.problems(plans, request).first {
                throw CLIError(problem, consequence: "nothing was run")
            }
            // A run that cannot be recorded does not start: open every history first.
            var stores: [String: HistoryStore] = [:]
            for plan in plans {
                let path = historyOptions.path(forPlan: plan.file)
                if stores[path] == nil { stores[path] = try await HistoryOptions.open(path, console: console) }
                work.append((plan, stores[path]!))
            }
        }
        guard !work.isEmpty else { return }

        let control = RunControl()
        let watcher = SignalWatcher(control: control, console: console)
        let series = await engine.rehearse(work, request, observer: printer, control: control) { console.err("warning: " + $0) }
        watcher.stop()
        // The reports cover the runs that ran, even when a fault stopped the series.
        try await console.reportingErrors {
            try writeReports(series.runs, plans: work.map(\.plan), console: console)
            if let fault = series.fault { throw CLIError(fault) }
        }
        let code = Self.exitCode(for: series.runs)
        if code != ExitCodes.passed { throw code }
    }

    /// The worst outcome of the runs decides.
    static func exitCode(for runs: [Run]) -> ExitCode {
        guard let worst = runs.max(by: { $0.status.severity < $1.status.severity }) else { return ExitCodes.passed }
        return switch worst.status {
        case .passed: ExitCodes.passed
        case .overBudget: ExitCodes.overBudget
        case .failed, .running, .abandoned: ExitCodes.failed
        case .interrupted:
            switch worst.signal {
            case SIGTERM: ExitCodes.terminated
            case SIGHUP: ExitCodes.hungUp
            default: ExitCodes.interrupted
            }
        }
    }

    /// `--verbose`: each line of output as it arrives, under its activity (above the status line).
    private func liveOutput(_ printer: ProgressPrinter) -> @Sendable (Activity, String) -> Void {
        let style = printer.style
        return { activity, line in
            printer.emit("             " + style.dim("\(activity.name) |") + " " + line)
        }
    }

    /// Loads every plan before anything runs: a broken plan never starts a run.
    private func loadPlans(console: Console) throws(CLIError) -> [Plan] {
        let files = try PlanDiscovery().resolve(plans)
        var loaded: [Plan] = []
        var invalid = false
        for file in files {
            let result = PlanFile.load(file)
            if !result.diagnostics.isEmpty {
                let source = result.plan?.source ?? (try? PlanFile.read(file).get())
                console.err(DiagnosticText(style: console.errStyle).render(result.diagnostics, source: source))
            }
            if let plan = result.plan { loaded.append(plan) } else { invalid = true }
        }
        if invalid {
            throw CLIError(kind: .invalidPlan, message: "invalid plan: nothing was run", fix: "fix the problems above, then run again ('rehearse check' lists them)")
        }
        return loaded
    }

    /// `--junit`, `--json`, and on GitHub Actions the step summary and error annotations, from the
    /// runs as the rehearsal returned them (the same model the history reads back).
    private func writeReports(_ runs: [Run], plans: [Plan], console: Console) throws(CLIError) {
        let environment = ProcessInfo.processInfo.environment
        let summaryFile = environment["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : $0 }
        let annotate = environment["GITHUB_ACTIONS"] == "true"
        guard junit != nil || json != nil || summaryFile != nil || annotate, !runs.isEmpty else { return }
        if let junit { try ReportFile.write(JUnitReport.render(runs), to: junit, console: console) }
        if let json { try ReportFile.write(HistoryJSON.report(runs), to: json, console: console) }
        if let summaryFile, !ReportFile.append(MarkdownReport.render(runs), to: summaryFile) {
            console.err("warning: cannot append the summary to GITHUB_STEP_SUMMARY (\(summaryFile))")
        }
        if annotate {
            // As the user named the plan files, not the absolute paths the history keeps.
            var paths: [Int64: String] = [:]
            for (run, plan) in zip(runs, plans) { paths[run.id] = plan.file }
            for line in MarkdownReport.githubAnnotations(runs, planPaths: paths) { console.out(line) }
        }
    }
}

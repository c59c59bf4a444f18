import ArgumentParser
import Foundation
import RehearseCore
import RehearseReports
import RehearseRunner
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
            2 a step, check or fingerprint failed; 64 usage error; 65 invalid plan; 130/143 \
            interrupted by SIGINT/SIGTERM, after the rollback the interruption triggered. With \
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

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL when stopping a step.", valueName: "duration"))
    var killGrace: String = "5s"

    @Flag(name: .shortAndLong, help: "Stream every command's output live, prefixed with its step.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("Also write JUnit XML here (one test suite per plan).", valueName: "file"))
    var junit: String?

    @Option(name: .long, help: ArgumentHelp("Also write the complete run records as JSON here.", valueName: "file"))
    var json: String?

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        do {
            _ = try DurationText.parse(killGrace)
        } catch {
            throw ValidationError("--kill-grace: \(error)")
        }
    }

    func run() async throws {
        let console = Console()
        var loaded: [Plan] = []
        var stores: [String: HistoryStore] = [:]
        try console.reportingErrors {
            loaded = try loadPlans(console: console)
            // A run that cannot be recorded does not start: open every history first.
            for plan in loaded {
                let path = historyOptions.path(forPlan: plan.file)
                if stores[path] == nil { stores[path] = try HistoryOptions.open(path) }
            }
        }
        let (worst, recorded) = await rehearse(loaded, stores: stores, console: console)
        try console.reportingErrors { try writeReports(recorded, console: console) }
        guard let worst else { return }
        let code = Self.exitCode(for: worst)
        if code != ExitCodes.passed { throw code }
    }

    static func exitCode(for verdict: Verdict) -> ExitCode {
        switch verdict.outcome {
        case .passed: ExitCodes.passed
        case .overBudget: ExitCodes.overBudget
        case .failed: ExitCodes.failed
        case .interrupted: verdict.signal == SIGTERM ? ExitCodes.terminated : ExitCodes.interrupted
        }
    }

    /// Loads and checks every plan before anything runs: a broken plan, a missing or protected
    /// target, or a `--fail-at` that names no step never starts a run.
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
        for plan in loaded {
            guard let target = plan.target(named: target) else {
                throw CLIError.usage("plan '\(plan.name)' (\(plan.file)) has no target '\(target)'; its targets are \(plan.targets.map(\.name).joined(separator: ", ")). Nothing was run",
                                     fix: "pass one of them with --target")
            }
            if target.isProtected, approve != target.name {
                throw CLIError.usage("target '\(target.name)' of plan '\(plan.name)' is protected: nothing was run",
                                     fix: "pass --approve \(target.name) if you really mean to run against it")
            }
        }
        if let failAt {
            let withStep = loaded.filter { $0.step(withID: failAt) != nil }
            if withStep.isEmpty {
                throw CLIError.usage("--fail-at \(failAt): no plan has a step '\(failAt)'. Nothing was run")
            }
            for plan in withStep {
                let graph = StepGraph(steps: plan.steps)
                if let index = graph.index(of: failAt), graph.beyondPointOfNoReturn().contains(index) {
                    throw CLIError.usage("--fail-at \(failAt): in plan '\(plan.name)' that step is beyond the point of no return and is never rehearsed. Nothing was run",
                                         fix: "cut at a step before it ('rehearse check' lists the order)")
                }
            }
        }
        return loaded
    }

    /// Runs each plan in turn; returns the worst verdict (an interruption stops after its plan).
    /// Runs each plan in turn; returns the worst verdict (an interruption stops after its plan) and
    /// where each run was recorded.
    private func rehearse(_ plans: [Plan], stores: [String: HistoryStore], console: Console) async -> (Verdict?, [RecordedRunLocation]) {
        var recorded: [RecordedRunLocation] = []
        let control = RunControl()
        let watcher = SignalWatcher(control: control, console: console)
        defer { watcher.stop() }
        let grace = (try? DurationText.parse(killGrace)) ?? .seconds(5)
        var worst: Verdict?
        for (index, plan) in plans.enumerated() {
            if index > 0 { console.out("") }
            let store = stores[historyOptions.path(forPlan: plan.file)]!
            let historyFolder = URL(fileURLWithPath: store.path).deletingLastPathComponent()
            let cut = plan.step(withID: failAt ?? "") != nil ? failAt : nil
            let runNumber: Int64
            let processMark = UUID().uuidString
            do {
                runNumber = try store.beginRun(RunStart(
                    plan: plan, target: target, failAt: cut, jobs: jobs, toolVersion: Rehearse.version,
                    gitCommit: GitCommit.current(for: plan.file), logsFolder: nil, processMark: processMark))
            } catch {
                console.err(CLIError.history(error).description + "\nnothing was run")
                return (Verdict(outcome: .failed, reasons: ["cannot record the run"]), recorded)
            }
            let runID = String(runNumber)
            // Logs live beside the database, one folder per run.
            let logs = historyFolder.appendingPathComponent("logs/\(runID)")
            do {
                try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            } catch {
                console.err("error: cannot create the log folder \(logs.path): \(error.localizedDescription)")
                return (Verdict(outcome: .failed, reasons: ["cannot create the log folder"]), recorded)
            }
            let style = console.outStyle
            let statusLine = console.stdoutIsTerminal && console.environment["TERM"] != "dumb" ? LiveStatusLine(style: style) : nil
            let printer = ProgressPrinter(console: console, style: style, verbose: verbose, live: statusLine)
            var live: (@Sendable (Activity, String) -> Void)?
            if verbose {
                live = { @Sendable (activity: Activity, line: String) in
                    printer.line("             " + style.dim("\(activity.name) |") + " " + line)
                }
            }
            let options = RehearsalOptions(
                runID: runID, target: target, jobs: jobs, failAt: cut,
                killGrace: grace, logsFolder: logs.path, liveOutput: live, processMark: processMark)
            let journal = JournalObserver(store: store, runID: runNumber, console: console)
            let observer = ObserverGroup([journal, printer])
            statusLine?.start()
            let record = await Rehearsal(plan: plan, options: options, observer: observer, control: control).run()
            statusLine?.stop()
            console.out(VerdictText(style: style).render(record))
            recorded.append(RecordedRunLocation(store: store, id: runNumber, planFile: plan.file))
            if worst == nil || record.verdict.outcome > worst!.outcome { worst = record.verdict }
            if record.verdict.outcome == .interrupted { break }
        }
        return (worst, recorded)
    }

    /// `--junit`, `--json`, and on GitHub Actions the step summary and error annotations, all
    /// from what the history recorded.
    private func writeReports(_ locations: [RecordedRunLocation], console: Console) throws(CLIError) {
        let environment = ProcessInfo.processInfo.environment
        let summaryFile = environment["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : $0 }
        let annotate = environment["GITHUB_ACTIONS"] == "true"
        guard junit != nil || json != nil || summaryFile != nil || annotate, !locations.isEmpty else { return }
        var runs: [RecordedRun] = []
        for location in locations {
            do throws(HistoryError) {
                if let run = try location.store.run(id: location.id) { runs.append(run) }
            } catch {
                throw CLIError.history(error)
            }
        }
        if let junit { try ReportFile.write(JUnitReport.render(runs), to: junit, console: console) }
        if let json { try ReportFile.write(HistoryJSON.report(runs), to: json, console: console) }
        if let summaryFile, !ReportFile.append(MarkdownReport.render(runs), to: summaryFile) {
            console.err("warning: cannot append the summary to GITHUB_STEP_SUMMARY (\(summaryFile))")
        }
        if annotate {
            let paths = Dictionary(locations.map { ($0.id, $0.planFile) }, uniquingKeysWith: { first, _ in first })
            for line in MarkdownReport.githubAnnotations(runs, planPaths: paths) { console.out(line) }
        }
    }

}

/// Where a run of this invocation was recorded.
struct RecordedRunLocation {
    var store: HistoryStore
    var id: Int64
    var planFile: String
}

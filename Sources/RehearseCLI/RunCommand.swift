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

            Cuts: --fail-at STEP runs STEP, then treats it as failed: the rollback starts when it \
            ends, and undoes it with everything applied before it. --cut-before STEP fails the \
            go-live just before STEP would start: STEP and what needs it never run and are never \
            rolled back. --every-cut rehearses a --fail-at at every step with a rollback, plus the \
            full rehearsal, each from a fresh copy (the target's setup and teardown run for each), \
            and prints the matrix; its exit status is the worst cut's. With --copies N, up to N cuts \
            run at once, each on its own copy: every command sees REHEARSE_COPY (1..N), and a \
            target's env values may use $REHEARSE_COPY and $REHEARSE_RUN_ID.

            The first Ctrl-C stops the forward steps and rolls back what was applied; a second one \
            abandons the rollback and says what is left applied. A run never starts from a copy an \
            earlier run left changed (steps left applied, no teardown since): it is refused (64) \
            until 'rehearse recover' rolls them back, unless the target's setup makes the copy afresh.

            Examples:
              # every plan in Rehearsals/
              rehearse --target copy
              rehearse run Rehearsals/checkout.yml --target copy --jobs 4
              # rehearse the rollback from one cut point
              rehearse run Rehearsals/checkout.yml --fail-at switch
              rehearse run Rehearsals/checkout.yml --cut-before migrate-004
              # from every cut point, 4 copies at once; one CI shard of four
              rehearse Rehearsals/checkout.yml --every-cut --copies 4
              rehearse run --every-cut --shard 2/4
              # forward again after rolling back? is every step safe to run twice?
              rehearse Rehearsals/checkout.yml --round-trip
              rehearse Rehearsals/checkout.yml --twice
              rehearse Rehearsals/checkout.yml --repeat 5      # median, p95, worst
              rehearse Rehearsals/checkout.yml --target production --approve production
              # into the team's shared history (the password from PGPASSWORD or ~/.pgpass)
              rehearse --target copy --history postgresql://ci@db.internal:5432/rehearse
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

    @Option(name: .customLong("fail-at"), help: ArgumentHelp("Run this step, then treat it as failed: the rollback starts when it ends and undoes it too.", valueName: "step"))
    var failAt: String?

    @Option(name: .customLong("cut-before"), help: ArgumentHelp("Fail the go-live just before this step: it and what needs it never run.", valueName: "step"))
    var cutBefore: String?

    @Flag(name: .customLong("every-cut"), help: "Rehearse the rollback from every cut point (a --fail-at at each step with a rollback, and the full rehearsal) and print the matrix.")
    var everyCut = false

    @Option(name: .long, help: ArgumentHelp("With --every-cut: rehearse up to this many cuts at once, each on its own copy (REHEARSE_COPY=1..N).", valueName: "n"))
    var copies: Int = 1

    /// The most copies side by side: each is a whole environment (its setup, its servers).
    static let mostCopies = 64

    @Option(name: .long, help: ArgumentHelp("With --every-cut: only the I-th of N slices of the cuts, for a CI job matrix.", valueName: "i/n"),
            transform: ArgumentTypes.shard)
    var shard: Shard?

    @Flag(name: .customLong("copy-restored"), help: "The copy a broken rollback left changed is restored (or rebuilt): take it as it is now instead of requiring the fingerprint that run started from.")
    var copyRestored = false

    @Flag(name: .customLong("round-trip"), help: "Forward, roll back, then forward and roll back again: the rollback must leave nothing that stops a second go (the slower rollback counts).")
    var roundTrip = false

    @Flag(name: .long, help: "Run every forward and every rollback step twice in a row, one at a time: each must be safe to run twice.")
    var twice = false

    @Option(name: .long, help: ArgumentHelp("Rehearse each plan this many times: the worst rollback is held against the budget; median and p95 are shown.", valueName: "n"))
    var `repeat`: Int = 1

    @Option(name: .long, help: ArgumentHelp("Allow a protected target: must name it exactly.", valueName: "target"))
    var approve: String?

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL when stopping a step (default: 5s).", valueName: "duration"),
            transform: ArgumentTypes.killGrace)
    var killGrace: Duration = .seconds(5)

    @OptionGroup var waitOption: WaitOption

    @Option(name: .customLong("log-limit"), help: ArgumentHelp("Most output each command's log keeps: its first and last halves (default: 16MB; 'none': all).", valueName: "size"),
            transform: SizeArgument.parse)
    var logLimit: Int?? = .some(RehearsalOptions.defaultLogLimit)

    @Flag(name: .shortAndLong, help: "Stream every command's output live, prefixed with its step.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("Also write JUnit XML here (one test suite per plan).", valueName: "file"))
    var junit: String?

    @Option(name: .long, help: ArgumentHelp("Also write the complete run records as JSON here.", valueName: "file"))
    var json: String?

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        guard jobs >= 1, jobs <= RehearsalOptions.mostJobs else { throw ValidationError("--jobs must be from 1 to \(RehearsalOptions.mostJobs)") }
        guard copies >= 1, copies <= Self.mostCopies else { throw ValidationError("--copies must be from 1 to \(Self.mostCopies)") }
        guard `repeat` >= 1, `repeat` <= 1000 else { throw ValidationError("--repeat must be from 1 to 1000") }
        if `repeat` > 1, everyCut { throw ValidationError("--repeat and --every-cut cannot be combined: choose one") }
        let cuts = [failAt.map { _ in "--fail-at" }, cutBefore.map { _ in "--cut-before" }, everyCut ? "--every-cut" : nil].compactMap { $0 }
        if cuts.count > 1 { throw ValidationError("\(cuts.joined(separator: " and ")) cannot be combined: choose one") }
        if !everyCut, copies != 1 { throw ValidationError("--copies needs --every-cut") }
        if roundTrip, !cuts.isEmpty { throw ValidationError("--round-trip rehearses the whole plan twice: it cannot be combined with \(cuts[0])") }
        if !everyCut, shard != nil { throw ValidationError("--shard needs --every-cut") }
    }

    /// The cut asked for on the command line, if one was.
    var cut: Cut? { failAt.map(Cut.failAt) ?? cutBefore.map(Cut.before) }

    func run() async throws {
        let console = Console()
        let engine = RehearsalEngine(toolVersion: Rehearse.version)
        let style = console.outStyle
        let statusLine = console.stdoutIsTerminal && console.environment["TERM"] != "dumb" ? LiveStatusLine(style: style) : nil
        let printer = ProgressPrinter(console: console, style: style, verbose: verbose, live: statusLine)
        var request = RehearsalRequest(target: target, approve: approve, cut: cut, jobs: jobs, killGrace: killGrace,
                                       liveOutput: verbose ? liveOutput(printer) : nil)
        request.roundTrip = roundTrip
        request.copyRestored = copyRestored
        request.twice = twice
        request.wait = waitOption.wait
        request.logLimit = logLimit ?? RehearsalOptions.defaultLogLimit
        // Watching from the start: a signal that comes while plans load and histories open is
        // not lost (or left to a disposition the parent set), and then nothing runs.
        let control = RunControl()
        let watcher = SignalWatcher(control: control, console: console)
        var work: [(plan: Plan, history: any HistoryStore)] = []
        try await console.reportingErrors {
            let plans = try loadPlans(console: console)
            if let problem = engine.problems(plans, request, copies: everyCut ? copies : 1).first {
                throw CLIError(problem, consequence: "nothing was run")
            }
            // A run that cannot be recorded does not start: open every history first.
            var stores: [String: any HistoryStore] = [:]
            for plan in plans {
                let path = historyOptions.path(forPlan: plan.file)
                // One store per history and project: a shared database's runs keep their logs in their own project.
                let key = path + "\u{0}" + HistoryOptions.localFolder(forPlan: plan.file)
                if stores[key] == nil { stores[key] = try await HistoryOptions.open(path, plan: plan.file, console: console) }
                work.append((plan, stores[key]!))
            }
        }
        guard !work.isEmpty else { return }
        if let signal = control.firstSignal {
            watcher.stop()
            console.err("\(SignalName.of(signal)) before the first rehearsal began: nothing was run")
            throw Self.exitCode(forSignal: signal)
        }

        let warn: @Sendable (String) -> Void = { console.err("warning: " + $0) }
        var incomplete = false
        let series: RehearsalEngine.Series
        if everyCut {
            (series, incomplete) = await rehearseEveryCut(work, request, engine: engine, control: control, console: console, warn: warn)
        } else if `repeat` > 1 {
            // Each plan N times in a row, as one group.
            var repeated = RehearsalEngine.Series()
            for (plan, history) in work where repeated.fault == nil && control.signalCount == 0 {
                let part = await engine.rehearseRepeatedly(plan, times: `repeat`, request, history: history, observer: printer,
                                                           control: control, warn: warn)
                repeated.runs += part.runs
                repeated.fault = part.fault
                if part.runs.count < `repeat` { incomplete = true }
            }
            series = repeated
        } else {
            series = await engine.rehearse(work, request, observer: printer, control: control, warn: warn)
        }
        watcher.stop()
        if `repeat` > 1 { printRepeatSummary(series.runs, plans: work.map(\.plan), console: console) }
        // The reports cover the runs that ran, even when a fault stopped the series.
        // A run of this command that left its copy changed stops the ones after it on that copy:
        // said, and the exit code is the runs' own (that one failed), not a usage error's.
        let stoppedByOwnRun = series.fault.map { Self.leftOnCopy(by: series.runs, $0) } ?? false
        try await console.reportingErrors {
            try writeReports(series.runs, plans: work.map(\.plan), console: console)
            if let fault = series.fault, !stoppedByOwnRun { throw CLIError(fault) }
        }
        if stoppedByOwnRun, let fault = series.fault {
            console.err("error: " + fault.message + "; the runs after it were not run")
            incomplete = true
        }
        var code = Self.exitCode(for: series.runs)
        // An every-cut rehearsal that did not run every cut is no pass, even when the cuts that
        // ran passed: interrupted between two cuts, it says so.
        if incomplete, code == ExitCodes.passed || code == ExitCodes.overBudget {
            code = control.firstSignal.map(Self.exitCode(forSignal:)) ?? ExitCodes.failed
        }
        if code != ExitCodes.passed { throw code }
    }

    /// Whether `fault` is a copy left changed by one of `runs`.
    static func leftOnCopy(by runs: [Run], _ fault: EngineError) -> Bool {
        guard case .refused(let problems) = fault.code, problems.count == 1,
              case .copyLeftApplied(let run, _, _, _, _, _) = problems[0] else { return false }
        return runs.contains { $0.id == run }
    }

    /// `--every-cut`: each plan's cut points in turn, a matrix after each. Cuts print a line as
    /// they start and their verdict as they end (several may run at once).
    private func rehearseEveryCut(
        _ work: [(plan: Plan, history: any HistoryStore)], _ request: RehearsalRequest, engine: RehearsalEngine, control: RunControl,
        console: Console, warn: @escaping @Sendable (String) -> Void
    ) async -> (RehearsalEngine.Series, incomplete: Bool) {
        var series = RehearsalEngine.Series(runs: [], fault: nil)
        var incomplete = false
        for (index, (plan, history)) in work.enumerated() {
            if control.signalCount > 0 {
                incomplete = true
                break
            }
            if index > 0 { console.out("") }
            let cuts = CutPoints.of(plan, shard: shard)
            var line = console.outStyle.bold(plan.name) + " on \(request.target): every cut point, \(cuts.count) rehearsal\(cuts.count == 1 ? "" : "s")"
            if let shard { line += " (shard \(shard))" }
            if copies > 1 { line += ", up to \(copies) at once" }
            console.out(line)
            let cores = ProcessInfo.processInfo.activeProcessorCount
            if index == 0, copies > cores {
                warn("--copies \(copies) on \(cores) core\(cores == 1 ? "" : "s"): the cuts share the cores, so their rollbacks "
                     + "take longer than they would alone (compare with --copies \(cores) before trusting an over-budget verdict)")
            }
            let style = console.outStyle
            let result = await engine.rehearseEveryCut(
                plan, request, copies: copies, shard: shard, history: history,
                observer: { cut, copy in CutProgress(console: console, style: style, cut: cut, copy: copy, copies: copies) },
                control: control, warn: warn)
            series.runs += result.runs
            if !result.isComplete { incomplete = true }
            console.out("")
            console.out(CutMatrixText(style: style).render(plan: plan.name, group: result.group, cuts: result.cuts, runs: result.runs))
            if let fault = result.fault {
                series.fault = fault
                break
            }
            if result.runs.contains(where: { $0.status == .interrupted }) { break }
        }
        return (series, incomplete)
    }

    /// `--repeat`: per plan, the outcomes, the worst rollback against the budget, median and p95.
    private func printRepeatSummary(_ runs: [Run], plans: [Plan], console: Console) {
        var seen = Set<String>()
        for plan in plans where seen.insert(plan.file).inserted {
            let own = runs.filter { $0.planFile == URL(fileURLWithPath: plan.file).standardizedFileURL.path }
            guard let summary = StatsText(style: console.outStyle).repeated(plan: plan.name, runs: own, asked: `repeat`, budget: plan.budget.rollback) else { continue }
            console.out("")
            console.out(summary)
        }
    }

    /// The worst outcome of the runs decides.
    static func exitCode(for runs: [Run]) -> ExitCode {
        // A run the harness could not record is its own fault, whatever else happened.
        if runs.contains(where: \.hasHarnessFault) { return ExitCodes.internalError }
        guard let worst = runs.max(by: { $0.status.severity < $1.status.severity }) else { return ExitCodes.passed }
        return switch worst.status {
        case .passed, .applied, .completed: ExitCodes.passed
        case .overBudget: ExitCodes.overBudget
        case .failed, .running, .abandoned, .rolledBack: ExitCodes.failed
        case .interrupted: exitCode(forSignal: worst.signal ?? SIGINT)
        }
    }

    static func exitCode(forSignal signal: Int32) -> ExitCode {
        switch signal {
        case SIGTERM: ExitCodes.terminated
        case SIGHUP: ExitCodes.hungUp
        default: ExitCodes.interrupted
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
            for line in MarkdownReport.githubAnnotations(runs, planPaths: paths) { console.workflowCommand(line) }
        }
    }
}

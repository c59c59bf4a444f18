import ArgumentParser
import Foundation
import RehearseCore
import RehearseEngine
import RehearseReports
import RehearseRunner
import RehearseStore

/// `rehearse go`: the go-live itself, only for a plan the gate says go for.
struct GoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "go",
        abstract: "Go live: run exactly the rehearsed plan on the live target, if the gate says go.",
        discussion: """
            Refuses (exit 1, with the gate's reason, nothing run) unless 'rehearse gate' would say \
            go for this exact content (its text and inputs): a rehearsal on --from that passed \
            within --within. Then, on the live target: the preflight checks, the fingerprint \
            (recorded, never compared: live data moves on), the forward steps up to the point of \
            no return (irreversible steps, and what needs them, wait for --finish), the smoke \
            checks, and with --watch the smoke checks again every --every for that long. The \
            target's setup and teardown, the fingerprint's probe and the window's writes do not \
            run on a live target, and what the steps start keeps running.

            A failing step or check, a timeout, or Ctrl-C triggers the rollback, timed from the \
            trigger as in a rehearsal and shown beside the rehearsed time; the restored checks \
            decide whether the old version is back. --approve must name the target, protected or \
            not; who approved, from where and when is recorded with the run (of kind 'live').

            Exit status: 0 applied and healthy; 2 rolled back (the verdict says whether completely \
            and within budget, and names anything left applied) or failed; 1 the gate said no-go, \
            or the rollback was over budget; 64 usage (no --approve); 130/143/129 interrupted, \
            after the rollback.

            After the watch: 'rehearse go --finish RUN --approve T' runs the irreversible steps of \
            an applied live run, after a typed confirmation (or --yes); 'rehearse rollback RUN' \
            rolls it back instead.

            Examples:
              rehearse go Rehearsals/shop.yml --target production --approve production
              rehearse go Rehearsals/checkout.yml --target prod --approve prod --watch 10m
              rehearse go x.yml --target prod --approve prod --watch 1h --every 1m
              rehearse go --finish 42 --approve production
              rehearse go --finish 42 --approve production --yes
            """)

    @Argument(help: "The plan to go live with (not with --finish).")
    var plan: String?

    @Option(name: .long, help: "The live target (the plan must have it).")
    var target: String?

    @Option(name: .long, help: ArgumentHelp("Approve the live target: must name it exactly.", valueName: "target"))
    var approve: String?

    @Option(name: .long, help: "The target the rehearsal must have run on.")
    var from: String = "copy"

    @Option(name: .long, help: ArgumentHelp("How recent the passing rehearsal must be (default: 48h).", valueName: "duration"),
            transform: ArgumentTypes.positiveDuration)
    var within: Duration = .seconds(48 * 3600)

    @Option(name: .long, help: ArgumentHelp("What must have passed: 'rehearsal' or 'every-cut'.", valueName: "what"),
            transform: ArgumentTypes.requirement)
    var require: GateDecision.Requirement = .rehearsal

    @Option(name: .long, help: ArgumentHelp("After the smoke checks pass, watch for this long: the smoke checks again every --every.", valueName: "duration"),
            transform: ArgumentTypes.positiveDuration)
    var watch: Duration?

    @Option(name: .long, help: ArgumentHelp("With --watch: how often the smoke checks run again (default: 30s).", valueName: "duration"),
            transform: ArgumentTypes.positiveDuration)
    var every: Duration?

    @Option(name: .long, help: ArgumentHelp("Run the irreversible steps of this applied live run (its point of no return).", valueName: "run"))
    var finish: Int64?

    @Flag(name: .long, help: "With --finish: do not ask for the typed confirmation.")
    var yes = false

    @Option(name: .shortAndLong, help: "How many independent steps may run at once.")
    var jobs: Int = RehearsalOptions.defaultJobs

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL when stopping a step (default: 5s).", valueName: "duration"),
            transform: ArgumentTypes.killGrace)
    var killGrace: Duration = .seconds(5)

    @OptionGroup var waitOption: WaitOption

    @Option(name: .customLong("log-limit"), help: ArgumentHelp("Most output each command's log keeps: its first and last halves (default: 16MB; 'none': all).", valueName: "size"),
            transform: SizeArgument.parse)
    var logLimit: Int?? = .some(RehearsalOptions.defaultLogLimit)

    @Flag(name: .shortAndLong, help: "Stream every command's output live, prefixed with its step.")
    var verbose = false

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        guard jobs >= 1, jobs <= RehearsalOptions.mostJobs else { throw ValidationError("--jobs must be from 1 to \(RehearsalOptions.mostJobs)") }
        if every != nil, watch == nil { throw ValidationError("--every needs --watch") }
        if let watch, let every, every > watch { throw ValidationError("--every (\(DurationText.compact(every))) is longer than --watch (\(DurationText.compact(watch)))") }
        if finish != nil {
            if plan != nil || target != nil { throw ValidationError("--finish RUN takes the plan and target recorded with the run: name neither") }
            if watch != nil { throw ValidationError("--watch is for the go-live itself, not --finish") }
        } else {
            guard plan != nil else { throw ValidationError("name the plan to go live with (or --finish RUN)") }
            guard target != nil else { throw ValidationError("--target is required: the live target") }
            if yes { throw ValidationError("--yes is for --finish") }
        }
        guard approve != nil else {
            throw ValidationError("going live needs --approve naming the live target (\(target ?? "the run's target")): nothing was run")
        }
    }

    func run() async throws {
        let console = Console()
        let control = RunControl()
        let watcher = SignalWatcher(control: control, console: console)
        defer { watcher.stop() }
        let style = console.outStyle
        let statusLine = console.stdoutIsTerminal && console.environment["TERM"] != "dumb" ? LiveStatusLine(style: style) : nil
        let printer = ProgressPrinter(console: console, style: style, verbose: verbose, live: statusLine)
        let engine = RehearsalEngine(toolVersion: Rehearse.version)
        let warn: @Sendable (String) -> Void = { console.err("warning: " + $0) }
        var code = ExitCodes.passed
        try await console.reportingErrors {
            if let finish {
                code = try await self.finish(finish, engine: engine, printer: printer, control: control, console: console, warn: warn)
                return
            }
            guard let planPath = plan, let target else { return }
            let loaded = try GateCommand.loadPlan(planPath, console: console, consequence: "nothing was run")
            let path = historyOptions.path(forPlan: loaded.file)
            guard let store = try await HistoryOptions.openIfExists(path, plan: loaded.file, console: console) else {
                // (The engine refuses these too: said first, as it would with a history.)
                guard loaded.target(named: target) != nil else {
                    throw CLIError(RunProblem.noSuchTarget(plan: loaded.name, file: loaded.file, target: target, available: loaded.targets.map(\.name)),
                                   consequence: "nothing was run")
                }
                guard approve == target else {
                    throw CLIError(RunProblem.liveNeedsApproval(plan: loaded.name, target: target), consequence: "nothing was run")
                }
                let decision = GateDecision(isGo: false, run: nil, reason: .neverRehearsed(target: from))
                console.out(GateText(style: style).render(decision, plan: loaded.name, target: target, from: from) + "\n  nothing was run")
                code = ExitCodes.overBudget
                return
            }
            var request = GoLiveRequest(target: target, approve: approve, from: from, within: within, requirement: require,
                                        jobs: jobs, killGrace: killGrace)
            request.logLimit = logLimit ?? RehearsalOptions.defaultLogLimit
            request.wait = waitOption.wait
            if let watch { request.watch = RehearsalOptions.Watch(duration: watch, every: every ?? .seconds(30)) }
            if verbose {
                request.liveOutput = { activity, line in printer.emit("             " + style.dim("\(activity.name) |") + " " + line) }
            }
            let outcome: GoLiveOutcome
            do throws(EngineError) {
                outcome = try await engine.goLive(loaded, request, history: store, observer: printer, control: control, warn: warn)
            } catch {
                throw CLIError(error)
            }
            switch outcome {
            case .refused(let problem):
                throw CLIError(problem, consequence: "nothing was run")
            case .contentUnknown(let why):
                console.out(style.red(style.bold("NO-GO")) + "  \(loaded.name) on \(target): \(why), so this plan's content cannot be "
                            + "compared with what was rehearsed\n  nothing was run")
                code = ExitCodes.overBudget
            case .noGo(let decision):
                console.out(GateText(style: style).render(decision, plan: loaded.name, target: target, from: from)
                    .replacingOccurrences(of: "rehearse run PLAN", with: "rehearse run \(planPath)") + "\n  nothing was run")
                code = ExitCodes.overBudget
            case .ran(let run, let gate):
                if let rehearsed = gate.evidence?.worstRollback, let actual = run.rollback {
                    console.out("  rollback: \(DurationText.precise(actual)) live against \(DurationText.precise(rehearsed)) rehearsed"
                                + " (\(gate.evidence.map { RehearsalEngineDescription.of($0) } ?? "")), budget \(DurationText.compact(run.budget))")
                }
                code = RunCommand.exitCode(for: [run])
            }
        }
        if code != ExitCodes.passed { throw code }
    }

    /// `--finish RUN`: the typed confirmation, then the irreversible steps.
    private func finish(
        _ id: Int64, engine: RehearsalEngine, printer: ProgressPrinter, control: RunControl, console: Console,
        warn: @escaping @Sendable (String) -> Void
    ) async throws -> ExitCode {
        guard let store = try await historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
        let recorded: Run?
        do throws(HistoryError) { recorded = try await store.run(id: id) } catch { throw CLIError.history(error) }
        guard let recorded else { throw CLIError(RunProblem.noSuchRun(run: id, history: store.location), consequence: "nothing was run") }
        if !yes {
            let plan = PlanParser().parse(recorded.planText, file: recorded.planFile, defaultName: recorded.planName).plan
            let steps = plan.map { $0.graph.ids($0.graph.forwardOrder(of: $0.graph.beyondPointOfNoReturn())) } ?? []
            guard isatty(STDIN_FILENO) == 1 else {
                throw CLIError.usage("--finish runs steps that cannot be undone (\(steps.joined(separator: ", "))): it needs a typed confirmation on a terminal, or --yes",
                                     fix: "rehearse go --finish \(id) --approve \(recorded.target) --yes")
            }
            console.out("run \(id) (\(recorded.planName) on \(recorded.target)): beyond the point of no return: \(steps.joined(separator: ", "))")
            console.out("these steps cannot be undone. Type the plan's name (\(recorded.planName)) to run them:")
            guard let answer = readLine(strippingNewline: true), answer.trimmingCharacters(in: .whitespaces) == recorded.planName else {
                throw CLIError.usage("not confirmed: nothing was run")
            }
        }
        let outcome: LiveRunOutcome
        do throws(EngineError) {
            outcome = try await engine.finishLive(id, approve: approve, killGrace: killGrace, wait: waitOption.wait, history: store, observer: printer,
                                                  control: control, warn: warn)
        } catch {
            throw CLIError(error)
        }
        switch outcome {
        case .refused(let problem):
            throw CLIError(problem, consequence: "nothing was run")
        case .done(let run):
            console.out(VerdictText(style: console.outStyle).render(run))
            return RunCommand.exitCode(for: [run])
        }
    }
}

/// How a GO's evidence is named in one line.
enum RehearsalEngineDescription {
    static func of(_ evidence: GateDecision.Evidence) -> String {
        switch evidence.kind {
        case .fullRehearsal: "run \(evidence.run)"
        case .everyCut(_, let count): "worst of \(count) cuts, run \(evidence.run)"
        case .repeated(_, let count): "worst of \(count) rehearsals, run \(evidence.run)"
        }
    }
}

import ArgumentParser
import Foundation
import RehearseCore
import RehearseEngine
import RehearseReports
import RehearseRunner
import RehearseStore

/// `rehearse rollback`: roll back a live go-live, at the operator's decision.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll back a live go-live that is applied: the operator's decision, timed, with the restored checks.",
        discussion: """
            Rolls back, in reverse dependency order, exactly the steps the journal shows applied by \
            'rehearse go' RUN, using the plan text recorded with the run, then runs the restored \
            checks. Timed from this moment (the trigger) and held against the budget; recorded in \
            the same run. A run past its point of no return (go --finish ran) cannot be rolled \
            back; a rehearsal that left steps applied is 'rehearse recover'\\'s.

            Exit status: 0 rolled back completely within budget, the restored checks passing; 1 \
            over budget; 2 the rollback or a restored check failed (what is left applied is \
            named); 64 usage (no --approve, not an applied live run).

            Examples:
              rehearse rollback 42 --approve production
              rehearse history            # live runs show their kind
            """)

    @Argument(help: ArgumentHelp("The live run to roll back.", valueName: "run"))
    var runID: Int64

    @Option(name: .long, help: ArgumentHelp("Approve the live target: must name it exactly.", valueName: "target"))
    var approve: String?

    @Option(name: .shortAndLong, help: "How many independent rollback steps may run at once.")
    var jobs: Int = RehearsalOptions.defaultJobs

    @Option(name: .customLong("kill-grace"), help: ArgumentHelp("Time between SIGTERM and SIGKILL when stopping a step (default: 5s).", valueName: "duration"),
            transform: ArgumentTypes.killGrace)
    var killGrace: Duration = .seconds(5)

    @OptionGroup var waitOption: WaitOption

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        guard jobs >= 1, jobs <= RehearsalOptions.mostJobs else { throw ValidationError("--jobs must be from 1 to \(RehearsalOptions.mostJobs)") }
        guard approve != nil else { throw ValidationError("rolling back a live run needs --approve naming its target: nothing was run") }
    }

    func run() async throws {
        let console = Console()
        let control = RunControl()
        let watcher = SignalWatcher(control: control, console: console)
        defer { watcher.stop() }
        var code = ExitCodes.passed
        try await console.reportingErrors {
            guard let store = try await historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
            let printer = ProgressPrinter(console: console, style: console.outStyle, verbose: false)
            let outcome: LiveRunOutcome
            do throws(EngineError) {
                outcome = try await RehearsalEngine(toolVersion: Rehearse.version).rollBackLive(
                    runID, approve: approve, jobs: jobs, killGrace: killGrace, wait: waitOption.wait, history: store, observer: printer, control: control,
                    willRollBack: { run, steps in
                        console.out("rolling back live run \(run.id) (\(run.planName) on \(run.target)) at the operator's decision: \(steps.joined(separator: ", "))")
                    },
                    warn: { console.err("warning: " + $0) })
            } catch {
                throw CLIError(error)
            }
            switch outcome {
            case .refused(let problem):
                throw CLIError(problem, consequence: "nothing was rolled back")
            case .done(let run):
                console.out(VerdictText(style: console.outStyle).render(run))
                code = switch run.status {
                case .rolledBack: ExitCodes.passed
                case .overBudget: ExitCodes.overBudget
                case .interrupted: RunCommand.exitCode(forSignal: run.signal ?? SIGINT)
                default: ExitCodes.failed
                }
                if run.hasHarnessFault { code = ExitCodes.internalError }
            }
        }
        if code != ExitCodes.passed { throw code }
    }
}

import ArgumentParser
import Foundation
import RehearseCore
import RehearseReports
import RehearseStore

/// `rehearse history`: recent runs (`list`, the default), and merging histories (`import`, `export`).
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recent rehearsals, or merge histories from other machines.",
        discussion: """
            'rehearse history' lists recent runs ('history list'). Every run has a globally unique \
            id beside its number, so runs recorded elsewhere (CI jobs, sharded every-cut runs, a \
            colleague's laptop) can be merged: 'history export' writes the runs another machine \
            needs to a new file, 'history import' adds the runs of such files that this history \
            lacks (importing twice adds nothing).

            Examples:
              rehearse history
              rehearse history shop-blue-green --limit 50
              rehearse history export runs.sqlite --since 2026-12-01
              rehearse history import shard-1/history.sqlite shard-2/history.sqlite
            """,
        subcommands: [HistoryListCommand.self, HistoryImportCommand.self, HistoryExportCommand.self],
        defaultSubcommand: HistoryListCommand.self)
}

/// `rehearse history [list]`: recent runs.
struct HistoryListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List recent rehearsals: id, plan, target, outcome, rollback time against budget.",
        discussion: """
            Newest first. Runs whose harness died (killed, machine rebooted) show as abandoned; \
            'rehearse recover' rolls back what they left applied.

            Examples:
              rehearse history
              rehearse history shop-blue-green --limit 50
              rehearse history --json > runs.json
              rehearse history --stats       # rollback median, p95, max per plan
              rehearse history --stats shop-in-place --steps
              REHEARSE_HISTORY=postgresql://ci@db.internal/rehearse rehearse history
            """)

    @Argument(help: "Only runs of this plan (its name).")
    var plan: String?

    @Option(name: .long, help: "How many runs to list.")
    var limit: Int = 20

    @Flag(name: .long, help: "Print JSON (durations in nanoseconds) instead of a table.")
    var json = false

    @Flag(name: .long, help: "Per plan and target: count, median, p95 and max rollback time of the recent full rehearsals that passed or went over budget (--limit of them), and the headroom to the budget.")
    var stats = false

    @Flag(name: .long, help: "With --stats: the same for each rollback step.")
    var steps = false

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        if steps, !stats { throw ValidationError("--steps needs --stats") }
        if stats, json { throw ValidationError("--stats prints a table: leave out --json") }
    }

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            guard let store = try await historyOptions.openExisting() else {
                if json { console.out(HistoryJSON.runs([])); return }
                throw CLIError.noHistory(historyOptions.path())
            }
            if stats {
                var rows: [(plan: String, target: String, stats: RollbackStats?, steps: [(step: String, stats: RollbackStats)])] = []
                do throws(HistoryError) {
                    for (planName, target) in try await store.plansAndTargets(plan: plan) {
                        // Over-budget rehearsals count too: leaving them out would hide the slow ones.
                        let passing = try await store.finishedRuns(plan: planName, target: target, cut: .only(nil), limit: limit * 2)
                            .filter(RollbackStats.counts).prefix(limit).map { $0 }
                        let budget = passing.first?.budget ?? Budget.defaultRollback
                        rows.append((planName, target, RollbackStats.ofFullRehearsals(passing, budget: budget),
                                     steps ? RollbackStats.perStep(passing, budget: budget) : []))
                    }
                } catch {
                    throw CLIError.history(error)
                }
                console.out(rows.isEmpty ? (plan.map { "no runs of '\($0)' recorded" } ?? "no runs recorded")
                                         : StatsText(style: console.outStyle).table(rows))
                return
            }
            let runs: [Run]
            do throws(HistoryError) { runs = try await store.recentRuns(plan: plan, limit: limit) } catch { throw CLIError.history(error) }
            if json {
                console.out(HistoryJSON.runs(runs))
            } else if runs.isEmpty {
                console.out(plan.map { "no runs of '\($0)' recorded" } ?? "no runs recorded")
            } else {
                console.out(HistoryText(style: console.outStyle).list(runs))
            }
        }
    }
}

/// `rehearse show`: one run, step by step.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one rehearsal step by step, with timings (default: the latest).",
        discussion: """
            Examples:
              rehearse show
              rehearse show 41
              rehearse show 41 --json
              rehearse show --group 3f2a9c1e      # an every-cut group's matrix
            """)

    @Argument(help: ArgumentHelp("The run's id (default: the latest run).", valueName: "run"))
    var runID: Int64?

    @Option(name: .long, help: ArgumentHelp("Show an every-cut group as its matrix (its id, or the start of it).", valueName: "id"))
    var group: String?

    @Flag(name: .long, help: "Print JSON (durations in nanoseconds).")
    var json = false

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        if group != nil, runID != nil { throw ValidationError("name a run or --group, not both") }
    }

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            guard let store = try await historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
            if let group {
                let found = try await GroupLookup.find(group, in: store)
                console.out(json
                    ? HistoryJSON.report(found.runs)
                    : CutMatrixText(style: console.outStyle).render(plan: found.planName, group: found.group, cuts: found.cuts, runs: found.runs))
                return
            }
            let recorded: Run?
            do throws(HistoryError) {
                let id: Int64? = if let runID { runID } else { try await store.latestRunID() }
                if let id {
                    recorded = try await store.run(id: id)
                } else {
                    recorded = nil
                }
            } catch {
                throw CLIError.history(error)
            }
            guard let recorded else {
                throw CLIError.usage("there is no run \(runID ?? 0) in \(store.location)", fix: "'rehearse history' lists the runs")
            }
            console.out(json ? HistoryJSON.run(recorded) : HistoryText(style: console.outStyle).detail(recorded))
        }
    }
}

/// `rehearse compare`: two runs side by side.
struct CompareCommand: AsyncParsableCommand {
    /// The largest --threshold-ms: the longest duration rehearse takes.
    static let longestThresholdMilliseconds = Int(DurationText.longest.nanoseconds / 1_000_000)

    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two rehearsals step by step: deltas, regressions, and how the plan changed.",
        discussion: """
            With no runs named, compares the latest run with the previous run of the same plan and \
            target. A step counts as a regression only when it is both --threshold-percent and \
            --threshold-ms slower, so noise does not cry wolf. --baseline N compares the latest run \
            with the median of the N passing runs before it: what a CI job on a noisy machine \
            wants. Runs found this way rehearsed the same thing (both full rehearsals, or both \
            the same cut); runs named by id that did not are compared with a warning. \
            --fail-on-regression judges the rollback: it exits 1 when a step's rollback or the \
            rollback total got slower; --include-forward counts forward steps too. Each side's \
            outcome is shown, with a warning when the runs are of different plans. Exit status: 0, \
            or 1 when --fail-on-regression is given and there is a regression.

            Examples:
              rehearse compare
              rehearse compare 38 41
              rehearse compare --baseline 5 --fail-on-regression
              rehearse compare 38 41 --json
            """)

    @Argument(help: "The earlier run (default: the run before B of the same plan and target).")
    var a: Int64?

    @Argument(help: "The later run (default: the latest run).")
    var b: Int64?

    @Option(name: .long, help: "Compare the later run with the median of this many runs before it.")
    var baseline: Int?

    @Option(name: .customLong("threshold-percent"), help: "How much slower, relatively, a regression must be.")
    var thresholdPercent: Double = 20

    @Option(name: .customLong("threshold-ms"), help: "How much slower, in milliseconds, a regression must be.")
    var thresholdMilliseconds: Int = 250

    @Flag(name: .customLong("fail-on-regression"), help: "Exit 1 when a step's rollback or the rollback total regressed.")
    var failOnRegression = false

    @Flag(name: .customLong("include-forward"), help: "Count forward steps that got slower as regressions too.")
    var includeForward = false

    @Flag(name: .long, help: "Print JSON (durations in nanoseconds).")
    var json = false

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        if let baseline, baseline < 1 { throw ValidationError("--baseline must be at least 1") }
        if baseline != nil, b != nil { throw ValidationError("--baseline compares one run with the runs before it: name at most one run") }
        guard thresholdPercent >= 0, thresholdMilliseconds >= 0 else { throw ValidationError("thresholds cannot be negative") }
        guard thresholdPercent.isFinite, thresholdPercent <= 1_000_000 else {
            throw ValidationError("--threshold-percent must be at most 1000000 (a step 10,000 times slower)")
        }
        guard thresholdMilliseconds <= Self.longestThresholdMilliseconds else {
            throw ValidationError("--threshold-ms must be at most \(Self.longestThresholdMilliseconds) (\(DurationText.compact(DurationText.longest)))")
        }
    }

    func run() async throws {
        let console = Console()
        var regressed = false
        try await console.reportingErrors {
            guard let store = try await historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
            do {
                let comparison = try await compare(store)
                regressed = comparison.hasRegression
                console.out(json ? HistoryJSON.comparison(comparison) : ComparisonText(style: console.outStyle).render(comparison))
            } catch let error as HistoryError {
                throw CLIError.history(error)
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError(kind: .internal, message: "\(error)")
            }
        }
        if regressed && failOnRegression { throw ExitCodes.overBudget }
    }

    /// Which runs to compare:
    /// - `--baseline N [RUN]`: RUN (default: the latest) against the median of the N runs before it;
    /// - `A B`: A against B;
    /// - `A`: A against the latest run of the same plan and target;
    /// - nothing: the latest run against the run before it of the same plan and target.
    private func compare(_ store: any HistoryStore) async throws -> RunComparison {
        let thresholds = RunComparison.Thresholds(relative: thresholdPercent / 100, absolute: .milliseconds(thresholdMilliseconds))
        func load(_ id: Int64) async throws -> Run {
            guard let run = try await store.run(id: id) else {
                throw CLIError.usage("there is no run \(id) in \(store.location)", fix: "'rehearse history' lists the runs")
            }
            return run
        }
        func latest() async throws -> Run {
            guard let id = try await store.latestRunID() else { throw CLIError.noHistory(store.location) }
            return try await load(id)
        }

        if let baseline {
            let later = if let a { try await load(a) } else { try await latest() }
            let previous = try await store.finishedRuns(plan: later.planName, target: later.target, before: later.id,
                                                        cut: .only(later.cut), passedOnly: true, limit: baseline)
            guard !previous.isEmpty else {
                throw CLIError.usage("run \(later.id) has no passing run of \(later.planName) on \(later.target) before it that rehearsed the same (\(later.cut?.phrase ?? "full rehearsal")): no baseline to compare it with")
            }
            return RunComparison(before: .init(medianOf: previous.reversed()), after: .init(run: later), thresholds: thresholds, includeForward: includeForward)
        }
        if let a, let b {
            var (first, second) = (try await load(a), try await load(b))
            // A go-live against a rehearsal: the rehearsal first, so that the changes say how
            // much slower (or faster) the day was than the copy foretold.
            if first.isLive, !second.isLive { (first, second) = (second, first) }
            return RunComparison(before: .init(run: first), after: .init(run: second), thresholds: thresholds, includeForward: includeForward)
        }
        if let a {
            let earlier = try await load(a)
            // A go-live alone: against the rehearsal its gate rested on.
            if earlier.isLive, let rehearsed = earlier.evidenceRun {
                return RunComparison(before: .init(run: try await load(rehearsed)), after: .init(run: earlier), thresholds: thresholds,
                                     includeForward: includeForward)
            }
            guard let newest = try await store.finishedRuns(plan: earlier.planName, target: earlier.target, cut: .only(earlier.cut), limit: 1).first,
                  newest.id > earlier.id
            else { throw CLIError.usage("run \(a) is the latest run of \(earlier.planName) on \(earlier.target): nothing to compare it with") }
            return RunComparison(before: .init(run: earlier), after: .init(run: newest), thresholds: thresholds, includeForward: includeForward)
        }
        let later = try await latest()
        guard let previous = try await store.finishedRuns(plan: later.planName, target: later.target, before: later.id,
                                                          cut: .only(later.cut), limit: 1).first else {
            throw CLIError.usage("run \(later.id) is the only run of \(later.planName) on \(later.target): nothing to compare it with",
                                 fix: "rehearse it again, or name two runs")
        }
        return RunComparison(before: .init(run: previous), after: .init(run: later), thresholds: thresholds, includeForward: includeForward)
    }
}

import ArgumentParser
import Foundation
import RehearseCore
import RehearseReports
import RehearseStore

/// `rehearse gate`: go or no-go on the day.
struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Go or no-go: did this exact plan pass a rehearsal recently?",
        discussion: """
            Go (exit 0) only when the latest finished rehearsal of this plan's exact content (by \
            content hash) on the rehearsal target passed within --within. Otherwise no-go (exit 1), \
            saying why: never rehearsed; the plan changed since (which steps); its last rehearsal \
            failed or was over budget (with the figures); or it was too long ago. Nothing is run.

            Examples:
              rehearse gate Rehearsals/checkout.yml --target production
              rehearse gate Rehearsals/checkout.yml --target production --within 24h
              rehearse gate Rehearsals/checkout.yml --target production --from staging
            """)

    @Argument(help: "The plan to go live with.")
    var plan: String

    @Option(name: .long, help: "The target of the go-live (the plan must have it).")
    var target: String

    @Option(name: .long, help: "The target the rehearsal must have run on.")
    var from: String = "copy"

    @Option(name: .long, help: ArgumentHelp("How recent the passing rehearsal must be (default: 48h).", valueName: "duration"),
            transform: ArgumentTypes.positiveDuration)
    var within: Duration = .seconds(48 * 3600)

    @OptionGroup var historyOptions: HistoryOptions

    func run() async throws {
        let console = Console()
        var isGo = false
        try await console.reportingErrors {
            let result = PlanFile.load(plan)
            if !result.diagnostics.isEmpty {
                let source = result.plan?.source ?? (try? PlanFile.read(plan).get())
                console.err(DiagnosticText(style: console.errStyle).render(result.diagnostics, source: source))
            }
            guard let loaded = result.plan else {
                throw CLIError(kind: .invalidPlan, message: "invalid plan: no-go", fix: "fix the problems above, rehearse it, then ask again")
            }
            guard loaded.target(named: target) != nil else {
                throw CLIError.usage("plan '\(loaded.name)' has no target '\(target)'; its targets are \(loaded.targets.map(\.name).joined(separator: ", "))")
            }
            let path = historyOptions.path(forPlan: loaded.file)
            var runs: [Run] = []
            if FileManager.default.fileExists(atPath: path) {
                let store = try await HistoryOptions.open(path)
                do throws(HistoryError) { runs = try await store.runs(plan: loaded.name, target: from) } catch { throw CLIError.history(error) }
            }
            let decision = GateDecision.decide(
                hash: ContentHash.of(loaded.source), text: loaded.source, runs: runs, target: from, now: Date(),
                within: within)
            isGo = decision.isGo
            console.out(GateText(style: console.outStyle).render(decision, plan: loaded.name, target: target, from: from)
                .replacingOccurrences(of: "rehearse run PLAN", with: "rehearse run \(plan)"))
        }
        if !isGo { throw ExitCodes.overBudget }
    }
}

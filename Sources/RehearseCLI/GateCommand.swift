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
            Go (exit 0) only when this plan's exact content (its text and the files its 'inputs' \
            name, by content hash) passed on the rehearsal target within --within, as a full \
            rehearsal or as an every-cut group whose cuts all passed. A single --fail-at or \
            --cut-before run never counts as a pass; a failing one is a no-go. Otherwise no-go \
            (exit 1), saying why: never rehearsed; the plan or an input changed since (which); its \
            last rehearsal failed or was over budget (with the figures); only cuts passed; or it \
            was too long ago. The GO line says which run or group it rests on, when, on which \
            target, and the worst rollback time against the budget. Nothing is run.

            Examples:
              rehearse gate Rehearsals/checkout.yml --target production
              rehearse gate Rehearsals/checkout.yml --target production --within 24h
              rehearse gate Rehearsals/checkout.yml --target production --from staging
              rehearse gate Rehearsals/checkout.yml --target prod --require every-cut
              # what any machine of the team rehearsed
              export REHEARSE_HISTORY=postgresql://ci@db.internal/rehearse
              rehearse gate Rehearsals/checkout.yml --target production
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

    @Option(name: .long, help: ArgumentHelp("What must have passed: 'rehearsal' (a full rehearsal or an every-cut group) or 'every-cut'.", valueName: "what"),
            transform: ArgumentTypes.requirement)
    var require: GateDecision.Requirement = .rehearsal

    @OptionGroup var historyOptions: HistoryOptions

    /// Loads the plan of a go-live, its diagnostics printed; an invalid plan is refused (65).
    static func loadPlan(_ path: String, console: Console, consequence: String) throws(CLIError) -> Plan {
        let result = PlanFile.load(path)
        if !result.diagnostics.isEmpty {
            let source = result.plan?.source ?? (try? PlanFile.read(path).get())
            console.err(DiagnosticText(style: console.errStyle).render(result.diagnostics, source: source))
        }
        guard let loaded = result.plan else {
            throw CLIError(kind: .invalidPlan, message: "invalid plan: \(consequence)", fix: "fix the problems above, rehearse it, then ask again")
        }
        return loaded
    }

    func run() async throws {
        let console = Console()
        var isGo = false
        try await console.reportingErrors {
            let loaded = try Self.loadPlan(plan, console: console, consequence: "no-go")
            guard loaded.target(named: target) != nil else {
                throw CLIError.usage("plan '\(loaded.name)' has no target '\(target)'; its targets are \(loaded.targets.map(\.name).joined(separator: ", "))")
            }
            let path = historyOptions.path(forPlan: loaded.file)
            var runs: [Run] = []
            if let store = try await HistoryOptions.openIfExists(path, plan: loaded.file) {
                do throws(HistoryError) { runs = try await store.runs(plan: loaded.name, target: from, limit: 1000) } catch { throw CLIError.history(error) }
            }
            let content: PlanContent
            do throws(PlanContent.UnreadableInput) {
                content = try PlanContent.of(loaded)
            } catch {
                // What cannot be hashed cannot be shown to be what was rehearsed.
                console.out(console.outStyle.red(console.outStyle.bold("NO-GO")) + "  \(loaded.name) on \(target): \(error), so this "
                            + "plan's content cannot be compared with what was rehearsed\n  check that it exists and is readable")
                return
            }
            let decision = GateDecision.decide(
                hash: content.hash, text: loaded.source, inputs: content.inputs, runs: runs, target: from, now: Date(),
                within: within, requiring: require)
            isGo = decision.isGo
            console.out(GateText(style: console.outStyle).render(decision, plan: loaded.name, target: target, from: from)
                .replacingOccurrences(of: "rehearse run PLAN", with: "rehearse run \(plan)"))
            // How much room the rollback has, over recent passing full rehearsals of this content.
            if let stats = RollbackStats.ofFullRehearsals(runs.filter { $0.planHash == content.hash }.prefix(20).map { $0 }, budget: loaded.budget.rollback) {
                console.out("  rollback on \(from): " + StatsText(style: console.outStyle).summary(stats))
            }
        }
        if !isGo { throw ExitCodes.overBudget }
    }
}

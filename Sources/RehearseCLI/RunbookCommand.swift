import ArgumentParser
import Foundation
import RehearseCore
import RehearseReports
import RehearseStore

/// `rehearse runbook`: the go-live document, from the plan and its history.
struct RunbookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Write the go-live document for a plan: steps, owners, rehearsed times, triggers, rollback, checklist, evidence.",
        discussion: """
            Generated from the plan and its history, for people to read and print before the \
            go-live: the plan's name, strategy and content hash, the gate's answer right now, the \
            plan's runbook section (window, contacts, the go/no-go checklist as tick boxes), the \
            forward steps in order with their owners, commands, rehearsed median and p95 times and \
            cumulative time, the point of no return, the rollback triggers, the rollback procedure \
            with rehearsed times against the budget (and the worst cut point when an every-cut \
            rehearsal exists), the restored checks, and the recent rehearsals. Rehearsed times come \
            from passing full rehearsals of this exact content. Nothing is run.

            Examples:
              rehearse runbook Rehearsals/checkout.yml
              rehearse runbook Rehearsals/checkout.yml --format html -o runbook.html
              rehearse runbook --target production --from staging
            """)

    @Argument(help: "Plans to write the runbook of (default: every .yml plan in the nearest Rehearsals/ folder).")
    var plans: [String] = []

    @Option(name: .long, help: ArgumentHelp("markdown or html.", valueName: "format"), transform: RunbookCommand.format)
    var format: String = "markdown"

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("The target of the go-live (default: the plan's first protected target, else copy).", valueName: "target"))
    var target: String?

    @Option(name: .long, help: "The target the rehearsals ran on.")
    var from: String = "copy"

    @Option(name: .long, help: ArgumentHelp("How recent a passing rehearsal must be for the gate (default: 48h).", valueName: "duration"),
            transform: ArgumentTypes.positiveDuration)
    var within: Duration = .seconds(48 * 3600)

    @OptionGroup var historyOptions: HistoryOptions

    static func format(_ text: String) throws -> String {
        guard ["markdown", "html"].contains(text) else { throw ValidationError("'\(text)' is not a format: use markdown or html") }
        return text
    }

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            var documents: [String] = []
            let files = try PlanDiscovery().resolve(plans)
            if format == "html", files.count > 1 {
                throw CLIError.usage("--format html writes one page for one plan: name one of \(files.count) plans")
            }
            for file in files {
                let result = PlanFile.load(file)
                guard let plan = result.plan else {
                    let source = try? PlanFile.read(file).get()
                    console.err(DiagnosticText(style: console.errStyle).render(result.diagnostics, source: source))
                    throw CLIError(kind: .invalidPlan, message: "invalid plan: no runbook", fix: "fix the problems above")
                }
                let goLive = target ?? plan.targets.first(where: \.isProtected)?.name ?? "copy"
                guard plan.target(named: goLive) != nil else {
                    throw CLIError.usage("plan '\(plan.name)' has no target '\(goLive)'; its targets are \(plan.targets.map(\.name).joined(separator: ", "))")
                }
                let content: PlanContent
                do throws(PlanContent.UnreadableInput) {
                    content = try PlanContent.of(plan)
                } catch {
                    throw CLIError.usage("\(error)", fix: "check that it exists and is readable, or change the plan's 'inputs'")
                }
                var runs: [Run] = []
                let path = historyOptions.path(forPlan: plan.file)
                if let store = try await HistoryOptions.openIfExists(path, plan: plan.file) {
                    do throws(HistoryError) {
                        runs = try await store.finishedRuns(plan: plan.name, target: from, limit: 200)
                    } catch {
                        throw CLIError.history(error)
                    }
                }
                let decision = GateDecision.decide(hash: content.hash, text: plan.source, inputs: content.inputs, runs: runs,
                                                   target: from, now: Date(), within: within)
                // The gate's headline, without its GO / NO-GO word (the runbook says it in bold).
                let headline = GateText().render(decision, plan: plan.name, target: goLive, from: from)
                    .split(separator: "\n").first.map(String.init) ?? ""
                let gateLine = headline.range(of: "  ").map { String(headline[$0.upperBound...]) } ?? headline
                let facts = RunbookText.Facts(plan: plan, contentHash: content.hash, inputCount: content.inputs.count, target: goLive,
                                              from: from, decision: decision, gateLine: gateLine, runs: runs, generatedAt: Date())
                documents.append(format == "html" ? RunbookText().html(facts) : RunbookText().markdown(facts))
            }
            try ReportFile.write(documents.joined(separator: format == "html" ? "" : "\n---\n\n"), to: output, console: console)
        }
    }
}

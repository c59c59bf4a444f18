import ArgumentParser
import RehearseCore
import RehearseReports
import RehearseStore

/// `rehearse check`: validate plans and say what a rehearsal would do, running nothing.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate plans and show what a rehearsal would do, without running anything.",
        discussion: """
            For each plan: its strategy and which step fills which slot, the forward order (steps \
            on one line may run in parallel), the rollback order, the steps beyond the point of no \
            return (never rehearsed), the atomic steps, the cut points of an every-cut rehearsal, \
            the files its 'inputs' put in its content hash, and the longest chain of rollbacks. A \
            warning (not an error) names each file a step uses that 'inputs' does not cover.

            Problems are listed all at once, each at file:line:col with what to change.
            Exit status: 0 when every plan is valid, 65 when any is not, 64 on usage errors.

            Examples:
              rehearse check                    # every plan in Rehearsals/
              rehearse check Rehearsals/checkout.yml
              rehearse check --quiet            # problems only, for CI or editors
            """)

    @Argument(help: "Plan files to check (default: every .yml plan in the nearest Rehearsals/ folder).")
    var plans: [String] = []

    @Flag(name: .shortAndLong, help: "Print only problems and the final count.")
    var quiet = false

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            let files = try PlanDiscovery().resolve(plans)
            var invalid = 0
            var problems: [Diagnostic] = []
            for (index, file) in files.enumerated() {
                let result = PlanFile.load(file)
                // Files the steps use but the content hash leaves out: only worth saying of a valid plan.
                let diagnostics = result.diagnostics + (result.plan.map { InputCoverage.warnings(for: $0) + $0.advice } ?? [])
                problems += diagnostics
                if !diagnostics.isEmpty {
                    let source = result.plan?.source ?? (try? PlanFile.read(file).get())
                    console.err(DiagnosticText(style: console.errStyle).render(diagnostics, source: source))
                }
                guard let plan = result.plan else {
                    invalid += 1
                    continue
                }
                if !quiet {
                    if index > 0 { console.out("") }
                    console.out(PlanSummaryText(style: console.outStyle).render(PlanAnalysis(plan: plan)))
                }
            }
            let noun = files.count == 1 ? "plan" : "plans"
            let verdict = invalid == 0
                ? "\(files.count) \(noun) valid"
                : "\(invalid) of \(files.count) \(noun) invalid"
            let summary = "\(verdict) (\(DiagnosticText.count(problems)))"
            if invalid > 0 {
                console.err(summary)
                throw CLIError(kind: .invalidPlan, message: "")
            }
            if !quiet { console.out("") }
            console.out(summary)
        }
    }
}

public import RehearseCore

/// The `rehearse check` answer for one valid plan: strategy and slots, forward and rollback
/// order with parallel groups, the point of no return, and the longest rollback chain.
public struct PlanSummaryText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    public func render(_ analysis: PlanAnalysis) -> String {
        let plan = analysis.plan
        var out: [String] = []
        let steps = Dictionary(plan.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

        out.append(style.bold(plan.name) + "  " + style.dim(plan.file))
        out.append("  strategy  \(plan.strategy.id): \(plan.strategy.summary)")
        out.append("  budget    rollback \(DurationText.compact(plan.budget.rollback)), step timeout \(DurationText.compact(plan.budget.stepTimeout))")
        let targets = plan.targets.map { $0.isProtected ? "\($0.name) (protected)" : $0.name }
        out.append("  targets   \(targets.joined(separator: ", "))")
        let checks = plan.checks
        var checkLine = "  checks    preflight \(checks.preflight.count), smoke \(checks.smoke.count), restored \(checks.restored.count)"
        checkLine += plan.fingerprint.map { "; fingerprint: \($0.run)" } ?? "; no fingerprint"
        out.append(checkLine)
        let atomic = plan.steps.filter(\.isAtomic).map(\.id)
        if !atomic.isEmpty {
            out.append("  atomic    \(atomic.joined(separator: ", "))" + style.dim("  (apply fully or not at all: not rolled back when they fail on their own)"))
        }
        if !plan.inputs.isEmpty {
            out.append("  inputs    \(plan.inputs.map(\.pattern).joined(separator: ", "))" + style.dim("  (hashed with the plan for the gate)"))
        }
        let cuts = CutPoints.of(plan).count
        out.append("  cuts      \(cuts) rehearsal\(cuts == 1 ? "" : "s") with --every-cut" + style.dim("  (a --fail-at at each step with a rollback, and the full rehearsal)"))

        if !analysis.slots.isEmpty {
            out.append("")
            out.append(style.bold("  slots"))
            let width = analysis.slots.map(\.slot.role.count).max() ?? 0
            for fill in analysis.slots {
                var line = "    " + fill.slot.role.padded(to: width) + "  "
                if let step = fill.stepID {
                    line += step
                    if fill.slot.reversal == .pointOfNoReturn { line += style.dim("  (point of no return)") }
                } else {
                    line += style.dim(fill.slot.isRequired ? "(missing)" : "(empty, optional)")
                }
                out.append(line)
            }
        }

        out.append("")
        out.append(style.bold("  forward order") + style.dim("  (steps on one line may run in parallel)"))
        out += numbered(analysis.forwardGroups) { steps[$0]?.run ?? "" }

        out.append("")
        out.append(style.bold("  rollback order") + style.dim("  (from the end of the forward steps)"))
        if analysis.rollbackGroups.isEmpty {
            out.append("    nothing to roll back")
        } else {
            out += numbered(analysis.rollbackGroups) { steps[$0]?.rollbackCommand ?? "" }
        }
        if !analysis.leftApplied.isEmpty {
            out.append("    left applied (rollback: none): " + analysis.leftApplied.joined(separator: ", "))
        }

        out.append("")
        if analysis.beyondPointOfNoReturn.isEmpty {
            out.append(style.bold("  point of no return") + "  none: every step is rehearsed")
        } else {
            out.append(style.bold("  beyond the point of no return") + style.dim("  (never run in a rehearsal)"))
            let width = analysis.beyondPointOfNoReturn.map(\.stepID.count).max() ?? 0
            for item in analysis.beyondPointOfNoReturn {
                let why = item.because == item.stepID ? "irreversible" : "needs \(item.because), which is irreversible"
                out.append("    " + item.stepID.padded(to: width) + "  " + style.dim(why))
            }
        }

        out.append("")
        let chain = analysis.longestRollbackChain
        let chainText = chain.isEmpty ? "none" : chain.joined(separator: " -> ") + "  (\(chain.count) step\(chain.count == 1 ? "" : "s"))"
        out.append(style.bold("  longest rollback chain") + "  " + chainText)
        return out.joined(separator: "\n")
    }

    /// One line per group: its number, then the steps; a single step also shows its command.
    private func numbered(_ groups: [[String]], command: (String) -> String) -> [String] {
        let numberWidth = String(groups.count).count
        let idWidth = groups.filter { $0.count == 1 }.map { $0[0].count }.max() ?? 0
        return groups.enumerated().map { offset, group in
            let number = String(offset + 1)
            let prefix = "    " + String(repeating: " ", count: numberWidth - number.count) + number + "  "
            if group.count == 1 {
                return prefix + group[0].padded(to: idWidth) + "  " + style.dim(oneLine(command(group[0])))
            }
            return prefix + group.joined(separator: ", ")
        }
    }

    private func oneLine(_ command: String) -> String {
        let first = command.split(separator: "\n").first.map(String.init) ?? ""
        let trimmed = first.count > 60 ? first.prefix(59) + "…" : first
        return command.contains("\n") && first.count <= 60 ? trimmed + " …" : String(trimmed)
    }
}

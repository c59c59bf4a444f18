public import Foundation
public import RehearseCore

/// The go-live document (`rehearse runbook`): generated from the plan and its history, for people
/// to read and print 48 hours before the go-live. Markdown, or one self-contained HTML page.
///
/// It carries what was rehearsed, not what someone remembers: the steps in order with their
/// owners and rehearsed times, the point of no return, the rollback triggers and procedure with
/// rehearsed times against the budget, the restored checks, the checklist, and the evidence.
public struct RunbookText: Sendable {
    /// What the document is made from.
    public struct Facts: Sendable {
        public var plan: Plan
        /// The plan's content hash now (its text and inputs), and how many inputs it covers.
        public var contentHash: String
        public var inputCount: Int
        /// The target the go-live is for, and the one it was rehearsed on.
        public var target: String
        public var from: String
        /// The gate's answer right now.
        public var decision: GateDecision
        public var gateLine: String
        /// Runs of the plan on `from`, newest first, with their activities.
        public var runs: [Run]
        public var generatedAt: Date

        public init(plan: Plan, contentHash: String, inputCount: Int, target: String, from: String, decision: GateDecision,
                    gateLine: String, runs: [Run], generatedAt: Date) {
            self.plan = plan
            self.contentHash = contentHash
            self.inputCount = inputCount
            self.target = target
            self.from = from
            self.decision = decision
            self.gateLine = gateLine
            self.runs = runs
            self.generatedAt = generatedAt
        }

        /// Passing full rehearsals of this exact content: where the rehearsed times come from.
        var evidence: [Run] { runs.filter { $0.planHash == contentHash && RollbackStats.counts($0) && $0.status == .passed }.prefix(20).map { $0 } }

        func times(_ kind: Activity.Kind, _ name: String) -> RollbackStats? {
            RollbackStats(evidence.compactMap { run in
                run.activities.last { $0.kind == kind && $0.name == name && $0.status == .passed }?.duration
            }, budget: plan.budget.rollback)
        }
    }

    public init() {}

    // MARK: - Markdown

    public func markdown(_ facts: Facts) -> String {
        let plan = facts.plan
        let graph = plan.graph
        var lines: [String] = []
        lines.append("# Go-live runbook: \(cell(plan.name))")
        lines.append("")
        lines.append("- strategy: \(plan.strategy.id) (\(cell(plan.strategy.summary)))")
        lines.append("- plan: `\(plan.file)`, content `\(facts.contentHash)` (its text and \(facts.inputCount) input file\(facts.inputCount == 1 ? "" : "s"))")
        lines.append("- go-live target: \(cell(facts.target)); rehearsed on: \(cell(facts.from)); generated \(TimestampText.local(facts.generatedAt))")
        lines.append("- **gate right now: \(facts.decision.isGo ? "GO" : "NO-GO")** — \(cell(facts.gateLine))")
        if let runbook = plan.runbook {
            lines.append("")
            lines.append("## When and who")
            lines.append("")
            if let window = runbook.window { lines.append("- window: \(cell(window))") }
            for contact in runbook.contacts { lines.append("- contact: \(cell(contact))") }
            if !runbook.checklist.isEmpty {
                lines.append("")
                lines.append("## Go / no-go checklist")
                lines.append("")
                for item in runbook.checklist { lines.append("- [ ] \(cell(item))") }
            }
        }

        // The commands of the day: only the rehearsed content runs, and the gate is asked again.
        let file = code("Rehearsals/" + URL(fileURLWithPath: plan.file).lastPathComponent)
        let target = code(facts.target)
        lines.append("")
        lines.append("## On the day")
        lines.append("")
        lines.append("1. `rehearse go \(file) --target \(target) --approve \(target) --watch 10m` runs the forward steps up to the point of no return, "
                     + "then the smoke checks every 30 s for 10 minutes; it refuses unless the gate says GO for this exact content, and rolls back on any trigger below.")
        lines.append("2. Healthy after the watch: `rehearse go --finish RUN --approve \(target)` runs the steps beyond the point of no return (it asks for the plan's name).")
        lines.append("3. Or, at any moment before that: `rehearse rollback RUN --approve \(target)` rolls the go-live back, timed against the budget.")

        lines.append("")
        lines.append("## Forward steps")
        lines.append("")
        lines.append("| # | step | owner | command | rehearsed (median / p95) | cumulative |")
        lines.append("| ---: | --- | --- | --- | ---: | ---: |")
        var cumulative = Duration.zero
        let beyond = graph.beyondPointOfNoReturn()
        for (number, index) in graph.forwardOrder(of: graph.rehearsable()).enumerated() {
            let step = graph.steps[index]
            let times = facts.times(.forward, step.id)
            if let times { cumulative += times.median }
            lines.append("| \(number + 1) | `\(step.id)` | \(cell(step.owner ?? "")) | `\(code(step.run))` | \(pair(times)) | \(times == nil ? "" : DurationText.precise(cumulative)) |")
        }
        if !beyond.isEmpty {
            lines.append("")
            lines.append("**Point of no return.** Never rehearsed, run only once the go-live is healthy and signed off:")
            for index in graph.forwardOrder(of: beyond) {
                let step = graph.steps[index]
                lines.append("- `\(step.id)`\(step.owner.map { " (\(cell($0)))" } ?? ""): `\(code(step.run))`")
            }
        }

        lines.append("")
        lines.append("## Rollback triggers")
        lines.append("")
        lines.append("- a forward step fails, or runs longer than its timeout (default \(DurationText.compact(plan.budget.stepTimeout)))")
        for check in plan.checks.smoke { lines.append("- smoke check fails: \(cell(check.name))\(check.owner.map { " (\(cell($0)))" } ?? "")") }
        for write in plan.window?.writes ?? [] { lines.append("- a write of the window fails: \(cell(write.name))") }
        lines.append("- a smoke check fails during the watch (`rehearse go --watch`)")
        lines.append("- the operator decides (Ctrl-C stops the forward steps and rolls back what was applied; later, `rehearse rollback RUN`)")

        lines.append("")
        lines.append("## Rollback procedure")
        lines.append("")
        lines.append("Budget **\(DurationText.compact(plan.budget.rollback))**, timed from the trigger until the last rollback step and restored check end.")
        if let stats = RollbackStats.ofFullRehearsals(facts.evidence, budget: plan.budget.rollback) {
            lines.append("Rehearsed: \(StatsText().summary(stats)).")
        } else {
            lines.append("**Not rehearsed yet for this exact content.**")
        }
        if let worst = worstCut(facts) {
            lines.append("Worst cut point rehearsed: \(cell(CutMatrixText.name(worst.cut))), rollback \(worst.rollback.map(DurationText.precise) ?? "-") (run \(worst.id)).")
        }
        lines.append("")
        lines.append("| # | step | owner | rollback command | rehearsed (median / p95) |")
        lines.append("| ---: | --- | --- | --- | ---: |")
        let applied = graph.rehearsable()
        for (number, index) in graph.rollbackOrder(of: applied).enumerated() {
            let step = graph.steps[index]
            let command = step.rollbackCommand.map { "`\(code($0))`" } ?? "none (harmless to leave applied)"
            let times = step.rollbackCommand == nil ? "-" : pair(facts.times(.rollback, step.id))
            lines.append("| \(number + 1) | `\(step.id)` | \(cell(step.owner ?? "")) | \(command) | \(times) |")
        }
        // Killing a client does not stop its server-side work: the hook does, and people must know it.
        let hooked = graph.steps.filter { $0.stop != nil }
        if !hooked.isEmpty {
            lines.append("")
            lines.append("A step stopped before its end (timeout, Ctrl-C, the trigger) runs its stop hook first, which cancels what it asked a server to do; when stopping one by hand, run it yourself:")
            for step in hooked { lines.append("- `\(step.id)`: `\(code(step.stop ?? ""))`") }
        }

        lines.append("")
        lines.append("## Restored checks")
        lines.append("")
        if plan.checks.restored.isEmpty { lines.append("- none: add restored checks, or the rollback is judged by its steps alone") }
        for check in plan.checks.restored {
            lines.append("- [ ] \(cell(check.name))\(check.owner.map { " (\(cell($0)))" } ?? ""): `\(code(check.command.run))`")
        }
        for check in plan.window?.kept ?? [] {
            lines.append("- [ ] \(cell(check.name)) (the window's writes are kept): `\(code(check.command.run))`")
        }

        lines.append("")
        lines.append("## Evidence: recent rehearsals on \(cell(facts.from))")
        lines.append("")
        if facts.runs.isEmpty {
            lines.append("None.")
        } else {
            lines.append("| run | date | rehearsed | this content | outcome | rollback | budget |")
            lines.append("| ---: | --- | --- | --- | --- | ---: | ---: |")
            for run in facts.runs.prefix(15) {
                let budget = DurationText.compact(run.budget) + (run.rollback.map { " (\(HistoryText.percent($0, of: run.budget)))" } ?? "")
                lines.append("| \(run.id) | \(TimestampText.local(run.startedAt)) | \(cell(HistoryText.rehearsed(run))) | \(run.planHash == facts.contentHash ? "yes" : "no") | \(run.status.rawValue) | \(run.rollback.map(DurationText.precise) ?? "-") | \(budget) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The slowest rollback of this content's every-cut groups, when one exists.
    private func worstCut(_ facts: Facts) -> Run? {
        let cuts = facts.runs.filter { $0.planHash == facts.contentHash && $0.group?.kind == .everyCut && $0.rollback != nil }
        return cuts.max { ($0.rollback ?? .zero) < ($1.rollback ?? .zero) }
    }

    private func pair(_ stats: RollbackStats?) -> String {
        guard let stats else { return "not rehearsed" }
        return "\(DurationText.precise(stats.median)) / \(DurationText.precise(stats.p95))"
    }

    /// A table cell or list item.
    private func cell(_ text: String) -> String {
        MarkdownText.inline(text)
    }

    /// A command in backticks: one line, shortened.
    private func code(_ command: String) -> String {
        let line = MarkdownText.code(command)
        return line.count > 90 ? String(line.prefix(89)) + "…" : line
    }

    // MARK: - HTML

    /// The same document as one self-contained HTML page (no network: inline CSS only).
    public func html(_ facts: Facts) -> String {
        var body = ""
        var inTable = false
        var inList = false
        func closeBlocks() {
            if inTable { body += "</table>\n"; inTable = false }
            if inList { body += "</ul>\n"; inList = false }
        }
        for line in markdown(facts).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("# ") {
                closeBlocks(); body += "<h1>\(inline(String(line.dropFirst(2))))</h1>\n"
            } else if line.hasPrefix("## ") {
                closeBlocks(); body += "<h2>\(inline(String(line.dropFirst(3))))</h2>\n"
            } else if line.hasPrefix("| ") {
                if line.contains("| ---") { continue }
                let cells = line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
                if !inTable {
                    closeBlocks(); inTable = true
                    body += "<table><tr>" + cells.map { "<th>\(inline($0))</th>" }.joined() + "</tr>\n"
                } else {
                    body += "<tr>" + cells.map { "<td>\(inline($0))</td>" }.joined() + "</tr>\n"
                }
            } else if line.hasPrefix("- [ ] ") {
                if !inList { closeBlocks(); inList = true; body += "<ul class=\"check\">\n" }
                body += "<li><span class=\"box\">☐</span> \(inline(String(line.dropFirst(6))))</li>\n"
            } else if line.hasPrefix("- ") {
                if !inList { closeBlocks(); inList = true; body += "<ul>\n" }
                body += "<li>\(inline(String(line.dropFirst(2))))</li>\n"
            } else if line.isEmpty {
                closeBlocks()
            } else {
                closeBlocks(); body += "<p>\(inline(line))</p>\n"
            }
        }
        closeBlocks()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <title>\(HTMLReport.escape(facts.plan.name)) – go-live runbook</title>
            <style>\n\(HTMLReport.css)ul.check { list-style: none; padding-left: 4px; } .box { font-size: 16px; margin-right: 6px; }
            code { background: #f6f8fa; padding: 1px 4px; border-radius: 3px; font-size: 12px; }
            @media print { body { margin: 12px; } h2 { page-break-after: avoid; } table { page-break-inside: avoid; } }
            </style></head><body>
            \(body)</body></html>

            """
    }

    /// Markdown's inline marks in one line: `code`, **bold**, escaped pipes; everything escaped.
    private func inline(_ text: String) -> String {
        var html = ""
        var rest = Substring(text)
        while let tick = rest.firstIndex(of: "`") {
            html += bold(HTMLReport.escape(MarkdownText.unescapeInline(String(rest[..<tick]))))
            let after = rest[rest.index(after: tick)...]
            guard let close = after.firstIndex(of: "`") else {
                rest = after
                continue
            }
            html += "<code>" + HTMLReport.escape(String(after[..<close]).replacingOccurrences(of: "\\|", with: "|")) + "</code>"
            rest = after[after.index(after: close)...]
        }
        return html + bold(HTMLReport.escape(MarkdownText.unescapeInline(String(rest))))
    }

    private func bold(_ escaped: String) -> String {
        let parts = escaped.components(separatedBy: "**")
        return parts.enumerated().map { $0.offset % 2 == 1 ? "<b>\($0.element)</b>" : $0.element }.joined()
    }
}

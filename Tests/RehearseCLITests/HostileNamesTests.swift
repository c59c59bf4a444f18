import Foundation
import RehearseCore
import RehearseReports
import RehearseTestSupport
import Testing

/// Issue 14, items 13 and 17: names are one line of printable text that fits a process, and
/// every output escapes what it prints for its medium.
@Suite struct HostileNamesTests {
    func parse(_ text: String) -> PlanParseResult {
        PlanParser().parse(text, file: "Rehearsals/p.yml", defaultName: "p")
    }

    func plan(checkName: String) -> String {
        """
        strategy: custom
        targets: { copy: {} }
        checks:
          smoke:
            - name: \(checkName)
              run: 'true'
        steps:
          a: { run: 'true', rollback: 'true' }
        """
    }

    @Test(arguments: [
        ("\"ok\\n::error::boom\"", "line break"),
        ("\"title \\e]0;pwned\\a\"", "control character"),
        ("\"tab\\there\"", "control character"),
        ("\"safe \\u202E txt.exe\"", "control character"),
        ("\"::add-mask::secret\"", "CI workflow command"),
        ("\"  ::error::indented\"", "CI workflow command"),
        ("\"see ##[error]this\"", "CI workflow command"),
        ("\"\(String(repeating: "n", count: 201))\"", "at most 200"),
        ("\"\(String(repeating: "n", count: 140_000))\"", "the kernel's limit"),
    ])
    func checkRejectsANameThatIsNotOnePrintableLine(name: String, problem: String) {
        let result = parse(plan(checkName: name))
        #expect(result.plan == nil)
        #expect(result.diagnostics.count == 1, "\(result.diagnostics)")
        #expect(result.diagnostics.first?.message.contains(problem) == true, "\(result.diagnostics)")
        #expect(result.diagnostics.first?.location.line == 5)
    }

    @Test func ownersAndRunbookLinesAreNamesToo() {
        let result = parse("""
            name: "::warning::plan"
            strategy: custom
            targets: { copy: {} }
            runbook:
              window: "Saturday\\n::error::x"
              contacts: [ "dba\\u001B[2J" ]
            steps:
              a: { run: 'true', rollback: 'true', owner: "ops\\r" }
            """)
        #expect(result.plan == nil)
        #expect(result.diagnostics.map(\.location.line) == [1, 5, 6, 8], "\(result.diagnostics)")
    }

    @Test func aPlanNamedByAHostileFileNameNeedsAName() {
        let text = "strategy: custom\ntargets: { copy: {} }\nsteps:\n  a: { run: 'true', rollback: 'true' }\n"
        let hostile = PlanParser().parse(text, file: "Rehearsals/x.yml", defaultName: "x\u{1B}]0;t\u{07}")
        #expect(hostile.plan == nil)
        #expect(hostile.diagnostics.first?.message.contains("the file's name") == true)
        #expect(PlanParser().parse("name: plain\n" + text, file: "Rehearsals/x.yml", defaultName: "x\u{1B}").plan?.name == "plain")
    }

    @Test func aCommandOverTheKernelsLimitForOneArgumentIsRefused() {
        let result = parse("""
            strategy: custom
            targets: { copy: { env: { BIG: "\(String(repeating: "v", count: 131_072))" } } }
            steps:
              a: { run: "echo \(String(repeating: "x", count: 131_072))", rollback: 'true' }
            """)
        #expect(result.diagnostics.filter { $0.message.contains("the kernel's limit") }.map(\.location.line) == [2, 4])
    }

    @Test func aCheckWrittenAsAMultiLineCommandIsNamedByItsFirstLine() throws {
        let result = parse("""
            strategy: custom
            targets: { copy: {} }
            checks:
              smoke:
                - |
                  curl -fsS http://127.0.0.1/health
                  test -e ready
            steps:
              a: { run: 'true', rollback: 'true' }
            """)
        let plan = try #require(result.plan, "\(result.diagnostics)")
        #expect(plan.checks.smoke.map(\.name) == ["curl -fsS http://127.0.0.1/health …"])
        #expect(plan.checks.smoke.first?.command.run.contains("test -e ready") == true)
    }

    @Test func diagnosticsShowWhatCannotBePrintedAsEscapes() {
        let diagnostic = Diagnostic.error(at: SourceLocation(file: "Rehearsals/\u{1B}[2Jx.yml", line: 1, column: 9),
                                          "'\u{1B}]0;t\u{07}' is not a valid environment variable name")
        let text = DiagnosticText().render([diagnostic], source: "  env: { \u{1B}]0;t\u{07}: x }")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(text.contains("Rehearsals/\\x1B[2Jx.yml:1:9:"))
        #expect(text.contains("'\\x1B]0;t\\x07' is not"))
        #expect(text.contains("  env: { \\x1B]0;t\\x07: x }"))
    }

    @Test func aVeryLongSourceLineIsQuotedAroundItsColumn() {
        let line = String(repeating: "a", count: 5000) + "HERE" + String(repeating: "b", count: 5000)
        let diagnostic = Diagnostic.error(at: SourceLocation(file: "p.yml", line: 1, column: 5001), "here")
        let lines = DiagnosticText().render([diagnostic], source: line).split(separator: "\n")
        #expect(lines[1].count < 110)
        let caret = lines[2].firstIndex(of: "^").map { lines[2].distance(from: lines[2].startIndex, to: $0) }
        let here = lines[1].range(of: "HERE").map { lines[1].distance(from: lines[1].startIndex, to: $0.lowerBound) }
        #expect(caret != nil && caret == here)
    }

    @Test func markdownMakesNamesInert() {
        #expect(MarkdownText.inline("<script>alert(1)</script> | a & b\n# x") == "&lt;script&gt;alert(1)&lt;/script&gt; \\| a &amp; b # x")
        #expect(MarkdownText.code("echo `id` | tee <f>\u{1B}[2J") == "echo 'id' \\| tee <f>[2J")
        #expect(MarkdownText.unescapeInline(MarkdownText.inline("<b> | & x")) == "<b> | & x")
    }

    @Test func linesThatCIWouldExecuteAreNeutralized() {
        #expect(WorkflowCommandText.neutralized("09:00 +1ms ok smoke x") == "09:00 +1ms ok smoke x")
        #expect(WorkflowCommandText.neutralized("::error::boom") == "\\::error::boom")
        #expect(WorkflowCommandText.neutralized("ok\n  ::add-mask::s") == "ok\n  \\::add-mask::s")
        #expect(WorkflowCommandText.neutralized("| out ##[error]x") == "| out ##\\[error]x")
        #expect(WorkflowCommandText.neutralized("a::b") == "a::b")
    }

    /// End to end: what a step prints and what a runbook quotes reach neither the terminal nor
    /// a CI runner nor a browser as anything but text.
    @Test func outputAndDocumentsEscapeForTheirMedium() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                runbook:
                  contacts: [ "<script>alert(1)</script> | on call" ]
                steps:
                  a:
                    owner: "<img src=x onerror=alert(1)>"
                    run: "printf '::add-mask::secret\\\\n##[error]forged\\\\n\\\\033]0;title\\\\007\\\\n'; exit 1"
                    rollback: 'true'
                """)
            let run = try await RehearseBinary.run(["run", "--history", "h.sqlite"], in: folder.path)
            #expect(run.status == 2, "\(run.stderr)")
            let all = run.stdout + run.stderr
            #expect(!all.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
            for line in all.split(separator: "\n") {
                #expect(!line.drop { $0 == " " }.hasPrefix("::"), "\(line)")
                #expect(!line.contains("##["), "\(line)")
            }
            let markdown = try await RehearseBinary.run(["runbook", "Rehearsals/p.yml", "--history", "h.sqlite"], in: folder.path)
            #expect(markdown.status == 0, "\(markdown.stderr)")
            #expect(!markdown.stdout.contains("<script>") && !markdown.stdout.contains("<img"))
            #expect(markdown.stdout.contains("&lt;script&gt;alert(1)&lt;/script&gt; \\| on call"))
            let html = try await RehearseBinary.run(["runbook", "Rehearsals/p.yml", "--history", "h.sqlite", "--format", "html"], in: folder.path)
            #expect(!html.stdout.contains("<script>") && !html.stdout.contains("<img"))
            #expect(html.stdout.contains("&lt;script&gt;alert(1)&lt;/script&gt; | on call"))
            #expect(!html.stdout.contains("&amp;lt;"))
        }
    }
}

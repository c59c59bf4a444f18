import Foundation
import RehearseCore
import RehearseReports
import RehearseTestSupport
import Testing

/// What CI systems and people read after a rehearsal: JUnit XML, JSON, Markdown, HTML.
@Suite struct ReportTests {
    static let schema = Fixtures.path("schemas/JUnit.xsd")

    static func plan(budget: String, rollbackOfB: String = "rm -f ../marks/b") -> String {
        """
        strategy: custom
        budget: { rollback: \(budget) }
        targets:
          copy: { setup: mkdir -p ../marks }
        checks:
          smoke: [ { name: "b & <c> \\"quoted\\"", run: 'test -f ../marks/b' } ]
        steps:
          a: { run: 'touch ../marks/a', rollback: 'rm -f ../marks/a' }
          b: { run: 'printf "done\\\\033[31m\\\\n"; touch ../marks/b', rollback: '\(rollbackOfB)', needs: a }
          c: { run: 'true', rollback: none, needs: a }
        """
    }

    /// Three runs in one history: passed, over budget, failed.
    func threeRuns(in folder: TemporaryFolder) async throws -> (passed: RehearseBinary.Outcome, over: RehearseBinary.Outcome, failed: RehearseBinary.Outcome) {
        try folder.write("Rehearsals/p.yml", Self.plan(budget: "4m"))
        let passed = try await RehearseBinary.run(["--junit", "out/passed.xml", "--json", "out/passed.json"], in: folder.path)
        try folder.write("Rehearsals/p.yml", Self.plan(budget: "20ms", rollbackOfB: "sleep 0.1; rm -f ../marks/b"))
        let over = try await RehearseBinary.run(["--junit", "out/over.xml"], in: folder.path)
        try folder.write("Rehearsals/p.yml", Self.plan(budget: "4m", rollbackOfB: "echo cannot >&2; exit 4"))
        let failed = try await RehearseBinary.run(["--junit", "out/failed.xml"], in: folder.path)
        return (passed, over, failed)
    }

    @Test func junitValidatesAgainstTheSchemaAndCarriesTheBudgetVerdict() async throws {
        try await TemporaryFolder.with { folder in
            let (passed, over, failed) = try await threeRuns(in: folder)
            #expect(passed.status == 0)
            #expect(over.status == 1)
            #expect(failed.status == 2)
            for name in ["passed", "over", "failed"] {
                guard let check = try await Tool.run("xmllint", ["--noout", "--schema", Self.schema, folder.path + "/out/\(name).xml"]) else {
                    Issue.record("xmllint is not installed: apt-get install libxml2-utils (.ci/run does)")
                    return
                }
                #expect(check.status == 0, "\(name).xml: \(check.output)")
            }
            let overXML = try folder.read("out/over.xml")
            #expect(overXML.contains(#"<testcase name="rollback within budget" classname="p.verdict""#))
            #expect(overXML.contains(#"<failure message="rollback took "#))
            #expect(overXML.contains(#", budget 20ms" type="over-budget">"#))
            let failedXML = try folder.read("out/failed.xml")
            #expect(failedXML.contains(#"<testcase name="rollback b" classname="p.rollback""#))
            #expect(failedXML.contains(#"<failure message="exit 4" type="failed">cannot</failure>"#))
            #expect(failedXML.contains(#"name="rollback a""#) && failedXML.contains(#"type="blocked""#))
            let passedXML = try folder.read("out/passed.xml")
            #expect(passedXML.contains(#"name="smoke check: b &amp; &lt;c&gt; &quot;quoted&quot;""#))
            #expect(!passedXML.contains("\u{1B}"))
            #expect(passedXML.contains(#"<skipped message="rollback: none"/>"#))
            // Times are in seconds.
            #expect(passedXML.range(of: #"time="[0-9]+\.[0-9]{3}""#, options: .regularExpression) != nil)
        }
    }

    @Test func jsonIsTheCompleteRecord() async throws {
        try await TemporaryFolder.with { folder in
            _ = try await threeRuns(in: folder)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(folder.read("out/passed.json").utf8)) as? [String: Any])
            #expect(object["schema_version"] as? Int == 1)
            let run = try #require((object["runs"] as? [[String: Any]])?.first)
            #expect(run["id"] as? Int == 1)
            #expect(run["plan"] as? String == "p")
            #expect(run["status"] as? String == "passed")
            #expect(run["target"] as? String == "copy")
            #expect(run["budget_ns"] as? Int == 240_000_000_000)
            #expect((run["rollback_ns"] as? Int ?? 0) > 0)
            #expect((run["plan_hash"] as? String)?.hasPrefix("sha256:") == true)
            #expect(run["trigger"] as? String == "planned rollback after the forward steps and smoke checks")
            let activities = try #require(run["activities"] as? [[String: Any]])
            #expect(activities.map { "\($0["phase"]!) \($0["name"]!)" } == [
                "setup copy", "forward a", "forward b", "forward c", "smoke b & <c> \"quoted\"",
                "rollback c", "rollback b", "rollback a",
            ])
            let b = try #require(activities.first { $0["name"] as? String == "b" })
            #expect(b["status"] as? String == "passed")
            #expect(b["exit_status"] as? Int == 0)
            #expect(b["output_tail"] as? String == "done[31m")
            #expect((b["duration_ns"] as? Int ?? 0) > 0)
            let report = try await RehearseBinary.run(["report", "1", "3", "--format", "json"], in: folder.path)
            let runs = (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]]
            #expect(runs?.map { $0["status"] as? String } == ["passed", "failed"])

            // The same documents decode with the library's own types, codes included.
            let decoded = try JSONDecoder().decode(RunsDocument.self, from: Data(report.stdout.utf8))
            #expect(decoded.runs.map(\.status) == ["passed", "failed"])
            let failed = try #require(decoded.runs.last?.details)
            #expect(failed.reasonCodes.first == "rollback-failed")
            #expect(failed.triggerCode == "rehearsal")
            #expect(failed.activities.contains { $0.phase == "rollback" && $0.status == "failed" && $0.exitStatus == 4 })
            let show = try await RehearseBinary.run(["show", "3", "--json"], in: folder.path)
            #expect(try JSONDecoder().decode(RunDocument.self, from: Data(show.stdout.utf8)).run.id == 3)
            let history = try await RehearseBinary.run(["history", "--json"], in: folder.path)
            let listed = try JSONDecoder().decode(RunsDocument.self, from: Data(history.stdout.utf8))
            #expect(listed.runs.map(\.id) == [3, 2, 1])
            #expect(listed.runs.allSatisfy { $0.details == nil })
        }
    }

    @Test func markdownSummaryAndGitHubIntegration() async throws {
        try await TemporaryFolder.with { folder in
            _ = try await threeRuns(in: folder)
            let markdown = try await RehearseBinary.run(["report", "1", "2", "3", "--format", "markdown"], in: folder.path)
            #expect(markdown.status == 0)
            #expect(markdown.stdout.contains("| plan | target | outcome | rollback | budget | forward | run |"))
            #expect(markdown.stdout.contains("| p | copy | ✅ passed |"))
            #expect(markdown.stdout.contains("| p | copy | ❌ over budget |"))
            #expect(markdown.stdout.contains("### p: ❌ failed"))
            #expect(markdown.stdout.contains("**left applied:** `a`, `b` (`rehearse recover 3`)"))

            try folder.write("summary.md", "# earlier content\n")
            let github = try await RehearseBinary.run([], in: folder.path, environment: [
                "GITHUB_STEP_SUMMARY": folder.path + "/summary.md", "GITHUB_ACTIONS": "true",
            ])
            #expect(github.status == 2)
            let summary = try folder.read("summary.md")
            #expect(summary.hasPrefix("# earlier content\n## Rollback rehearsal"))
            #expect(summary.contains("| p | copy | ❌ failed |"))
            #expect(github.stdout.contains("::error file=Rehearsals/p.yml,title=rollback rehearsal failed::p on copy: failed; rollback of 'b' failed (exit 4)"))
        }
    }

    @Test func htmlIsOneSelfContainedPage() async throws {
        try await TemporaryFolder.with { folder in
            _ = try await threeRuns(in: folder)
            let outcome = try await RehearseBinary.run(["report", "--format", "html", "-o", "out/run.html"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let html = try folder.read("out/run.html")
            #expect(html.hasPrefix("<!doctype html>"))
            #expect(html.contains("FAILED"))
            #expect(html.contains("<svg") && html.contains("rollback trigger"))
            #expect(html.contains("rollback b"))
            #expect(html.contains("Recent rollbacks of p on copy"))
            // No network: nothing is loaded from elsewhere.
            #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("@import"))
            #expect(html.contains("b &amp; &lt;c&gt;"))
        }
    }

    @Test func progressIsPlainWhenNotATerminal() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(budget: "4m"))
            let outcome = try await RehearseBinary.run(["--verbose"], in: folder.path, environment: ["NO_COLOR": nil, "TERM": "xterm-256color"])
            #expect(outcome.status == 0)
            #expect(!outcome.stdout.contains("\u{1B}"))
            #expect(!outcome.stdout.contains("\r"))
            #expect(outcome.stdout.contains("b | done[31m"))
            // Every progress line starts with a wall-clock time.
            let progress = outcome.stdout.split(separator: "\n").filter { $0.contains("forward     ") }
            #expect(progress.count >= 6)
            #expect(progress.allSatisfy { $0.range(of: #"^[0-9]{2}:[0-9]{2}:[0-9]{2} "#, options: .regularExpression) != nil || $0.contains(" | ") })
        }
    }
}

extension ReportTests {
    /// On a real terminal (a pseudo-terminal from util-linux's `script`), the live status line shows
    /// the running steps and, during the rollback, the budget left.
    @Test func liveProgressOnATerminal() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                budget: { rollback: 9s }
                targets: { copy: {} }
                steps:
                  slow: { run: 'sleep 0.6', rollback: 'sleep 0.6' }
                """)
            let command = "cd '\(folder.path)' && '\(RehearseBinary.url.path)'"
            guard let result = try await Tool.run("script", ["-qfec", command, "/dev/null"]) else {
                Issue.record("script (util-linux) is not installed")
                return
            }
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("running: slow "))
            #expect(result.output.contains("rollback budget left "))
            #expect(result.output.contains("\u{1B}[2K"))
            #expect(result.output.contains("p: PASSED"))
        }
    }

    /// An every-cut group that stopped before every cut ran is no pass in JUnit: the cuts that did
    /// not run are failing test cases.
    @Test func anUnfinishedGroupFailsInJUnit() throws {
        let text = "strategy: custom\ntargets: { copy: {} }\nsteps:\n  a: { run: ./a, rollback: ./u }\n  b: { run: ./b, rollback: ./u, needs: a }\n"
        let plan = try #require(PlanParser().parse(text, file: "/p.yml", defaultName: "p").plan)
        let group = RunGroup(id: "0123abcd", size: 3)
        func run(_ id: Int64, _ cut: Cut?) -> Run {
            var run = Run(starting: plan, target: "copy", id: id, planHash: "h", provenance: RunProvenance(host: "h", user: "u", pid: 1, toolVersion: "t"),
                          cut: cut, group: group, startedAt: Date())
            run.status = .passed
            run.endedAt = run.startedAt
            run.rollback = .milliseconds(5)
            return run
        }
        let xml = JUnitReport.render([run(1, .failAt("a")), run(2, .failAt("b"))])
        #expect(xml.contains("tests=\"3\" failures=\"1\""))
        #expect(xml.contains("rollback from full rehearsal"))
        #expect(xml.contains("type=\"not-run\""))
        #expect(CutMatrixText().render(plan: "p", group: group, cuts: CutPoints.of(plan), runs: [run(1, .failAt("a"))]).contains("incomplete: 2 of 3 cuts did not run"))
    }
}

import Foundation
import RehearseTestSupport
import Testing

/// `rehearse runbook`: the go-live document from the plan and its history.
@Suite struct RunbookTests {
    static let plan = """
        strategy: custom
        budget: { rollback: 1m }
        targets:
          copy: { env: { DATA: ../data } }
          production: { protected: true, env: { DATA: ../prod } }
        runbook:
          window: "Saturday 06:00 UTC"
          contacts: [ "dba: Ana" ]
          checklist: [ "plan B agreed", "support knows" ]
        checks:
          smoke: [ { name: v2 answers, run: 'true', owner: sre } ]
          restored: [ { name: v1 answers, run: 'true' } ]
        steps:
          migrate: { run: 'mkdir -p "$DATA"; touch "$DATA/m"', rollback: 'rm "$DATA/m"', owner: dba }
          switch: { run: 'touch "$DATA/s"', rollback: 'rm "$DATA/s"', needs: migrate }
          retire: { run: 'rm -rf "$DATA/old"', irreversible: true, needs: switch }
        """

    @Test func theRunbookListsEveryStepWithItsRehearsedTimesAndTheChecklist() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan)
            let before = try await RehearseBinary.run(["runbook"], in: folder.path)
            #expect(before.status == 0, "\(before.stderr)")
            #expect(before.stdout.contains("**gate right now: NO-GO**"))
            #expect(before.stdout.contains("| 1 | `migrate` | dba | "))
            #expect(before.stdout.contains("not rehearsed"))
            #expect(try await RehearseBinary.run(["run", "--repeat", "2"], in: folder.path).status == 0)
            let after = try await RehearseBinary.run(["runbook", "Rehearsals/p.yml"], in: folder.path)
            #expect(after.stdout.contains("**gate right now: GO**"))
            #expect(after.stdout.contains("go-live target: production"))
            #expect(after.stdout.contains("## On the day"))
            #expect(after.stdout.contains("`rehearse go Rehearsals/p.yml --target production --approve production --watch 10m`"))
            #expect(after.stdout.contains("- a smoke check fails during the watch"))
            #expect(after.stdout.contains("- [ ] plan B agreed"))
            #expect(after.stdout.contains("- window: Saturday 06:00 UTC"))
            // Every forward step with its rehearsed median / p95 and cumulative time.
            let forward = after.stdout.split(separator: "\n").filter { $0.hasPrefix("| 1 | `migrate`") || $0.hasPrefix("| 2 | `switch`") }
            #expect(forward.count == 2)
            #expect(forward.allSatisfy { !$0.contains("not rehearsed") })
            // The rollback procedure, in reverse order, with its times.
            #expect(after.stdout.contains("| 1 | `switch` |  | `rm \"$DATA/s\"` | "))
            #expect(!after.stdout.contains("| 1 | `migrate` | dba | `mkdir -p \"$DATA\"; touch \"$DATA/m\"` | not rehearsed"))
            #expect(after.stdout.contains("**Point of no return.**"))
            #expect(after.stdout.contains("- `retire`"))
            #expect(after.stdout.contains("- smoke check fails: v2 answers (sre)"))
            #expect(after.stdout.contains("Rehearsed: median "))
            #expect(after.stdout.contains("## Evidence: recent rehearsals on copy"))
            // HTML: one self-contained page.
            let html = try await RehearseBinary.run(["runbook", "Rehearsals/p.yml", "--format", "html", "-o", "runbook.html"], in: folder.path)
            #expect(html.status == 0)
            let page = try folder.read("runbook.html")
            #expect(page.hasPrefix("<!doctype html>"))
            #expect(page.contains("<table><tr><th>#</th><th>step</th>"))
            #expect(page.contains("<span class=\"box\">☐</span> plan B agreed"))
            #expect(!page.contains("http://") && !page.contains("https://"))
            #expect(try await RehearseBinary.run(["runbook", "--format", "pdf"], in: folder.path).status == 64)
        }
    }
}

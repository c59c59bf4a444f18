import Foundation
import RehearseTestSupport
import Testing

/// `rehearse run --every-cut` end to end: the real binary rehearses the rollback from every cut
/// point of real shell plans, on copies side by side, in shards, and the history keeps the group.
@Suite struct EveryCutTests {
    /// Each copy has its own state folder (`$REHEARSE_COPY` in the target's env); setup makes it
    /// fresh for every cut.
    static func plan(budget: String = "10s", steps: String) -> String {
        """
        strategy: custom
        budget: { rollback: \(budget) }
        targets:
          copy:
            env: { STATE: '../state-$REHEARSE_COPY' }
            setup: rm -rf "$STATE" && mkdir -p "$STATE"
        checks:
          restored: [ { name: nothing left, run: 'test -z "$(ls "$STATE")"' } ]
        steps:
        \(steps)
        """
    }

    /// b's rollback only works when c's rollback ran first: a bug the full rehearsal hides.
    static let hiddenBug = """
          a: { run: 'touch "$STATE/a"', rollback: 'rm "$STATE/a"' }
          b: { run: 'touch "$STATE/b"', rollback: 'rm "$STATE/b" "$STATE/c-undone"', needs: a }
          c: { run: 'touch "$STATE/c"', rollback: 'rm "$STATE/c" && touch "$STATE/c-undone"', needs: b }
        """

    func runs(_ folder: TemporaryFolder) async throws -> [[String: Any]] {
        let listed = try await RehearseBinary.run(["history", "--json", "--limit", "100"], in: folder.path)
        return (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
    }

    @Test func aRollbackBugThatOnlyAMidPlanCutShowsFailsTheMatrixAndNamesTheCut() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: Self.hiddenBug))
            // The full rehearsal passes...
            #expect(try await RehearseBinary.run(["run"], in: folder.path).status == 0)
            // ...the matrix does not.
            let outcome = try await RehearseBinary.run(["run", "--every-cut"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            let matrix = outcome.stdout.components(separatedBy: "every cut point, 4 rehearsals (group").last ?? ""
            let rows = matrix.split(separator: "\n").map(String.init)
            #expect(rows.contains { $0.contains("fail at a") && $0.contains("1 of 3") && $0.contains("PASSED") })
            #expect(rows.contains { $0.contains("fail at b") && $0.contains("2 of 3") && $0.contains("FAILED") })
            #expect(rows.contains { $0.contains("fail at c") && $0.contains("3 of 3") && $0.contains("PASSED") })
            #expect(rows.contains { $0.contains("full rehearsal") && $0.contains("PASSED") })
            #expect(outcome.stdout.contains("worst: fail at b"))
            // Four runs of one group in the history, besides the full rehearsal before.
            let recorded = try await runs(folder)
            #expect(recorded.count == 5)
            let groups = Set(recorded.compactMap { $0["group_id"] as? String })
            #expect(groups.count == 1)
            let group = try #require(groups.first)
            let history = try await RehearseBinary.run(["history"], in: folder.path)
            #expect(history.stdout.contains("fail at b (group \(group.prefix(8)))"))
            let shown = try await RehearseBinary.run(["show", "--group", String(group.prefix(8))], in: folder.path)
            #expect(shown.status == 0)
            #expect(shown.stdout.contains("worst: fail at b"))
            // The gate: the group failed after the full rehearsal passed.
            let gate = try await RehearseBinary.run(["gate", "Rehearsals/p.yml", "--target", "copy"], in: folder.path)
            #expect(gate.status == 1)
            #expect(gate.stdout.contains("fail at b"), "\(gate.stdout)")
            // JUnit: one test case per cut; HTML: the matrix.
            let junit = try await RehearseBinary.run(["report", "--group", String(group.prefix(6)), "--format", "junit"], in: folder.path)
            #expect(junit.status == 0)
            #expect(junit.stdout.components(separatedBy: "<testcase ").count - 1 == 4)
            #expect(junit.stdout.contains("tests=\"4\" failures=\"1\""))
            #expect(junit.stdout.contains("rollback from fail at b"))
            // Valid against the JUnit schema CI systems read.
            #expect(try await RehearseBinary.run(["report", "--group", group, "--format", "junit", "-o", "cuts.xml"], in: folder.path).status == 0)
            let valid = try #require(try await Tool.run("xmllint", ["--noout", "--schema", Fixtures.path("schemas/JUnit.xsd"), folder.path + "/cuts.xml"]),
                                     "xmllint is not installed: apt-get install libxml2-utils (.ci/run does)")
            #expect(valid.status == 0, "\(valid.output)")
            // compare finds the previous run that rehearsed the same thing: the full rehearsal.
            let compare = try await RehearseBinary.run(["compare"], in: folder.path)
            #expect(compare.stdout.contains("run 1  ->  run 5"), "\(compare.stdout)")
            let mixed = try await RehearseBinary.run(["compare", "2", "5"], in: folder.path)
            #expect(mixed.stdout.contains("warning: the runs rehearsed different things (fail at a and full rehearsal)"))
            let html = try await RehearseBinary.run(["report", "--group", group, "--format", "html"], in: folder.path)
            #expect(html.stdout.contains("<td>fail at b</td>"))
            #expect(html.stdout.contains("NOT ALL CUTS PASSED"))
        }
    }

    @Test func aRollbackSlowOnlyFromAnEarlyCutMakesTheMatrixOverBudget() async throws {
        try await TemporaryFolder.with { folder in
            // a's rollback is quick only once b's rollback has warmed it up.
            let steps = """
                  a: { run: 'touch "$STATE/a"', rollback: 'test -e "$STATE/warm" || sleep 1.2; rm -f "$STATE/a" "$STATE/warm"' }
                  b: { run: 'touch "$STATE/b"', rollback: 'rm "$STATE/b"; touch "$STATE/warm"', needs: a }
                """
            try folder.write("Rehearsals/p.yml", Self.plan(budget: "800ms", steps: steps))
            let outcome = try await RehearseBinary.run(["run", "--every-cut"], in: folder.path)
            #expect(outcome.status == 1, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("worst: fail at a"))
            #expect(outcome.stdout.split(separator: "\n").contains { $0.contains("fail at a") && $0.contains("OVER BUDGET") })
            let gate = try await RehearseBinary.run(["gate", "Rehearsals/p.yml", "--target", "copy"], in: folder.path)
            #expect(gate.status == 1)
        }
    }

    @Test func copiesRunCutsSideBySideEachOnItsOwnCopy() async throws {
        try await TemporaryFolder.with { folder in
            // Each forward step records its copy and waits for another copy to be running too:
            // with two copies the cuts must overlap (a lone copy would time out and fail).
            let steps = """
                  a:
                    run: |
                      touch "$STATE/a"; echo "$REHEARSE_COPY" >> ../copies.txt
                      touch ../running-$REHEARSE_COPY
                      i=0; while [ "$(ls ../ | grep -c '^running-')" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i+1)); done
                      echo "$(ls ../ | grep -c '^running-')" >> ../peers.txt
                      rm ../running-$REHEARSE_COPY
                    rollback: rm "$STATE/a"
                  b: { run: 'touch "$STATE/b"', rollback: 'rm "$STATE/b"', needs: a }
                """
            try folder.write("Rehearsals/p.yml", Self.plan(steps: steps))
            let outcome = try await RehearseBinary.run(["run", "--every-cut", "--copies", "2"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("up to 2 at once"))
            let copies = try folder.read("copies.txt").split(separator: "\n")
            #expect(Set(copies) == ["1", "2"])
            // At least once, both copies ran at the same moment.
            #expect(try folder.read("peers.txt").split(separator: "\n").contains("2"))
            #expect(folder.exists("state-1") && folder.exists("state-2"))
        }
    }

    /// Several copies that nothing keeps apart would share one copy: refused before anything runs.
    @Test func copiesThatNothingKeepsApartAreRefused() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: { env: { STATE: ../state } } }
                steps:
                  a: { run: 'mkdir -p "$STATE"; touch "$STATE/a"', rollback: 'rm "$STATE/a"' }
                """)
            let outcome = try await RehearseBinary.run(["run", "--every-cut", "--copies", "2"], in: folder.path)
            #expect(outcome.status == 64, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stderr.contains("nothing in plan 'p' (target 'copy' or its commands) uses REHEARSE_COPY"))
            #expect(!folder.exists("state"))
            #expect(try await RehearseBinary.run(["run", "--every-cut", "--copies", "1"], in: folder.path).status == 0)
        }
    }

    @Test func shardsSplitTheCutsAcrossJobsWithNoneLeftOut() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: """
                  a: { run: 'touch "$STATE/a"', rollback: 'rm "$STATE/a"' }
                  b: { run: 'touch "$STATE/b"', rollback: 'rm "$STATE/b"', needs: a }
                  c: { run: 'touch "$STATE/c"', rollback: 'rm "$STATE/c"', needs: b }
                """))
            var cuts: [String] = []
            for shard in ["1/2", "2/2"] {
                let outcome = try await RehearseBinary.run(["run", "--every-cut", "--shard", shard, "--history", "h-\(shard.prefix(1)).sqlite"],
                                                           in: folder.path)
                #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
                #expect(outcome.stdout.contains("(shard \(shard))"))
                let listed = try await RehearseBinary.run(["show", "--json", "--history", "h-\(shard.prefix(1)).sqlite"], in: folder.path)
                #expect(listed.status == 0)
                let report = try await RehearseBinary.run(["report", "--format", "json", "--history", "h-\(shard.prefix(1)).sqlite", "1", "2"],
                                                          in: folder.path)
                let runs = (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
                #expect(runs.count == 2)
                for run in runs {
                    #expect(run["group_shard"] as? String == shard)
                    cuts.append((run["fail_at"] as? String) ?? "full")
                }
            }
            #expect(cuts.sorted() == ["a", "b", "c", "full"])
        }
    }
}

import Foundation
import RehearseTestSupport
import Testing

/// The history as a user meets it: runs recorded by the real binary, then listed, shown,
/// compared, gated and recovered.
@Suite struct HistoryCommandTests {
    static func plan(steps: String, budget: String = "4m") -> String {
        """
        strategy: custom
        budget: { rollback: \(budget) }
        targets:
          copy: { env: { MARKS: ../marks } }
          production: { protected: true }
        steps:
        \(steps)
        """
    }

    static let steps = """
          a: { run: 'mkdir -p $MARKS; touch $MARKS/a', rollback: 'rm -f $MARKS/a' }
          b: { run: 'touch $MARKS/b', rollback: 'rm -f $MARKS/b', needs: a }
        """

    func marks(_ folder: TemporaryFolder) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path + "/marks")) ?? []).sorted()
    }

    @Test func runsAreRecordedListedAndShown() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: Self.steps))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 0)
            #expect(try await RehearseBinary.run(["--fail-at", "b"], in: folder.path).status == 0)
            #expect(folder.exists(".rehearse/history.sqlite"))

            let history = try await RehearseBinary.run(["history"], in: folder.path)
            #expect(history.status == 0)
            let lines = history.stdout.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines[1].hasPrefix("  2  p     copy"))
            #expect(lines[1].contains("passed"))

            let json = try await RehearseBinary.run(["history", "--json"], in: folder.path)
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let runs = try #require(object?["runs"] as? [[String: Any]])
            #expect(runs.map { $0["id"] as? Int } == [2, 1])
            #expect(runs.first?["status"] as? String == "passed")
            #expect((runs.first?["budget_ns"] as? Int) == 240_000_000_000)

            let show = try await RehearseBinary.run(["show", "2"], in: folder.path)
            #expect(show.status == 0)
            #expect(show.stdout.contains("run 2  p on copy  passed"))
            #expect(show.stdout.contains("cut       fail at b (--fail-at b)"))
            #expect(show.stdout.contains("applied   2 of 2 steps applied, fail at b"))

            let latest = try await RehearseBinary.run(["show", "--json"], in: folder.path)
            let run = try #require((try JSONSerialization.jsonObject(with: Data(latest.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])
            #expect(run["id"] as? Int == 2)
            #expect((run["activities"] as? [[String: Any]])?.map { $0["phase"] as? String } == ["forward", "forward", "rollback", "rollback"])
            #expect(run["fail_at"] as? String == "b")
            #expect(run["cut_before"] is NSNull)
            #expect(run["step_count"] as? Int == 2)

            let missing = try await RehearseBinary.run(["show", "99"], in: folder.path)
            #expect(missing.status == 64)
            #expect(missing.stderr.contains("there is no run 99"))
        }
    }

    @Test func noHistoryYetIsExplained() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: Self.steps))
            let outcome = try await RehearseBinary.run(["history"], in: folder.path)
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains("no rehearsals recorded yet"))
            #expect(!folder.exists(".rehearse/history.sqlite"))
        }
    }

    @Test func aBrokenHistoryRefusesToRunAnything() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: Self.steps))
            try folder.write(".rehearse/history.sqlite", "not a database at all\n")
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 70)
            #expect(outcome.stderr.contains("is not an SQLite database"))
            #expect(marks(folder).isEmpty)
            #expect(try folder.read(".rehearse/history.sqlite") == "not a database at all\n")
            let other = try await RehearseBinary.run(["--history", folder.path + "/elsewhere.sqlite"], in: folder.path)
            #expect(other.status == 0)
        }
    }

    @Test func compareShowsDeltasRegressionsAndPlanChanges() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: """
                  a: { run: 'true', rollback: 'true' }
                  b: { run: 'true', rollback: 'true', needs: a }
                """))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 0)
            try folder.write("Rehearsals/p.yml", Self.plan(steps: """
                  a: { run: 'true', rollback: 'sleep 1' }
                  c: { run: 'true', rollback: 'true', needs: a }
                """))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 0)
            let outcome = try await RehearseBinary.run(["compare", "--fail-on-regression"], in: folder.path)
            #expect(outcome.status == 1, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("run 1  ->  run 2"))
            #expect(outcome.stdout.contains("REGRESSION"))
            #expect(outcome.stdout.contains("1 regression: a"))
            #expect(outcome.stdout.contains("added:   c"))
            #expect(outcome.stdout.contains("removed: b"))
            #expect(outcome.stdout.contains("changed: a (rollback)"))
            let explicit = try await RehearseBinary.run(["compare", "1", "2", "--json"], in: folder.path)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(explicit.stdout.utf8)) as? [String: Any])
            #expect((object["plan_changes"] as? [String: Any])?["added"] as? [String] == ["c"])
            let lenient = try await RehearseBinary.run(["compare", "--threshold-ms", "5000", "--fail-on-regression"], in: folder.path)
            #expect(lenient.status == 0)
            #expect(lenient.stdout.contains("no regressions"))
            let baseline = try await RehearseBinary.run(["compare", "--baseline", "3"], in: folder.path)
            #expect(baseline.status == 0)
            #expect(baseline.stdout.contains("median of 1 run (1)  ->  run 2"))
        }
    }

    @Test func gateSaysWhy() async throws {
        try await TemporaryFolder.with { folder in
            let plan = "Rehearsals/p.yml"
            try folder.write(plan, Self.plan(steps: Self.steps))
            let never = try await RehearseBinary.run(["gate", plan, "--target", "production"], in: folder.path)
            #expect(never.status == 1)
            #expect(never.stdout.contains("NO-GO  p on production: never rehearsed on copy"))

            #expect(try await RehearseBinary.run([], in: folder.path).status == 0)
            let go = try await RehearseBinary.run(["gate", plan, "--target", "production"], in: folder.path)
            #expect(go.status == 0, "\(go.stdout)")
            #expect(go.stdout.hasPrefix("GO  p on production"))

            let stale = try await RehearseBinary.run(["gate", plan, "--target", "production", "--within", "1ms"], in: folder.path)
            #expect(stale.status == 1)
            #expect(stale.stdout.contains("ago, more than 1ms"))

            try folder.write(plan, Self.plan(steps: Self.steps.replacingOccurrences(of: "touch $MARKS/b'", with: "touch $MARKS/b $MARKS/b2'")))
            let changed = try await RehearseBinary.run(["gate", plan, "--target", "production"], in: folder.path)
            #expect(changed.status == 1)
            #expect(changed.stdout.contains("the plan changed since its last rehearsal (run 1)"))
            #expect(changed.stdout.contains("step changed:  b (run)"))

            try folder.write(plan, Self.plan(steps: Self.steps.replacingOccurrences(of: "rollback: 'rm -f $MARKS/b'", with: "rollback: 'sleep 0.1'"), budget: "10ms"))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 1)
            let over = try await RehearseBinary.run(["gate", plan, "--target", "production"], in: folder.path)
            #expect(over.status == 1)
            #expect(over.stdout.contains("its last rehearsal (run 2) was over budget: rollback "))
            #expect(over.stdout.contains("of 10ms budget"))

            let noTarget = try await RehearseBinary.run(["gate", plan, "--target", "staging"], in: folder.path)
            #expect(noTarget.status == 64)
        }
    }

    /// Editing a file a step runs (appending a DROP TABLE to a migration) must change the gate's answer.
    @Test func theGateSeesTheInputsChange() async throws {
        try await TemporaryFolder.with { folder in
            let plan = "Rehearsals/p.yml"
            try folder.write(plan, """
                strategy: custom
                targets: { copy: {}, production: { protected: true } }
                inputs: [ '../migrations/*.sql' ]
                steps:
                  migrate: { run: 'cat ../migrations/001.sql > /dev/null', rollback: 'true' }
                """)
            try folder.write("migrations/001.sql", "CREATE TABLE jobs (id int);\n")
            #expect(try await RehearseBinary.run([], in: folder.path).status == 0)
            let go = try await RehearseBinary.run(["gate", plan, "--target", "production"], in: folder.path)
            #expect(go.status == 0, "\(go.stdout)")
            #expect(go.stdout.contains("passed a full rehearsal (run 1) on copy, finished "))
            #expect(go.stdout.contains("worst rollback "))

            try folder.write("migrations/001.sql", "CREATE TABLE jobs (id int);\nDROP TABLE customers;\n")
            try folder.write("migrations/002.sql", "SELECT 1;\n")
            let changed = try await RehearseBinary.run(["gate", plan, "--target", "production"], in: folder.path)
            #expect(changed.status == 1, "\(changed.stdout)")
            #expect(changed.stdout.contains("input changed: ../migrations/001.sql"))
            #expect(changed.stdout.contains("input added:   ../migrations/002.sql"))
            // The history keeps the inputs' digests with the run.
            let show = try await RehearseBinary.run(["show", "1", "--json"], in: folder.path)
            let run = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])
            #expect((run["inputs"] as? [String: String])?.keys.sorted() == ["../migrations/001.sql"])
            // check warns about a file a step uses that the inputs leave out.
            try folder.write(plan, """
                strategy: custom
                targets: { copy: {} }
                inputs: [ '../migrations/001.sql' ]
                steps:
                  migrate: { run: 'psql -f ../migrations/002.sql', rollback: 'true' }
                """)
            let check = try await RehearseBinary.run(["check", plan], in: folder.path)
            #expect(check.status == 0)
            #expect(check.stderr.contains("warning: step 'migrate' uses ../migrations/002.sql, which the plan's 'inputs' do not cover"))
        }
    }

    /// The reported hole: a passing `--fail-at` answered GO though every full rehearsal had failed.
    @Test func theGateIgnoresPassesThatWereOnlyCuts() async throws {
        try await TemporaryFolder.with { folder in
            let plan = "Rehearsals/p.yml"
            try folder.write(plan, Self.plan(steps: Self.steps.replacingOccurrences(of: "rollback: 'rm -f $MARKS/b'", with: "rollback: 'exit 1'")))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 2)
            // (Its broken rollback left b applied: said done by hand, so that the copy is free again.)
            #expect(try await RehearseBinary.run(["recover", "1", "--assume-done", "b"], in: folder.path).status == 0)
            #expect(try await RehearseBinary.run(["--fail-at", "a"], in: folder.path).status == 0)
            let gate = try await RehearseBinary.run(["gate", plan, "--target", "production"], in: folder.path)
            #expect(gate.status == 1)
            #expect(gate.stdout.contains("its last rehearsal (run 1) failed"), "\(gate.stdout)")
            #expect(!gate.stdout.hasPrefix("GO"))
        }
    }

    /// `--fail-on-regression` judges the rollback: forward steps slower and the rollback faster is no regression.
    @Test func compareFailsOnRollbackRegressionsUnlessForwardIsIncluded() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: "  a: { run: 'true', rollback: 'sleep 0.4' }"))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 0)
            // 0.8 s: the default threshold is 250 ms, and `true` can take 150 ms on a loaded machine.
            try folder.write("Rehearsals/p.yml", Self.plan(steps: "  a: { run: 'sleep 0.8', rollback: 'true' }"))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 0)
            let compare = try await RehearseBinary.run(["compare", "--fail-on-regression"], in: folder.path)
            #expect(compare.status == 0, "\(compare.stdout)")
            #expect(compare.stdout.contains("A: run 1 passed (full rehearsal)"))
            #expect(compare.stdout.contains("forward steps slower (not counted; --include-forward counts them): a"))
            let wide = try await RehearseBinary.run(["compare", "--fail-on-regression", "--include-forward"], in: folder.path)
            #expect(wide.status == 1)
            #expect(wide.stdout.contains("REGRESSION (forward)"))
            // Runs of different plans are compared with a warning.
            try folder.write("Rehearsals/q.yml", Self.plan(steps: "  a: { run: 'true', rollback: 'true' }"))
            #expect(try await RehearseBinary.run(["Rehearsals/q.yml"], in: folder.path).status == 0)
            let mixed = try await RehearseBinary.run(["compare", "1", "3"], in: folder.path)
            #expect(mixed.stdout.contains("warning: these are runs of different plans ('p' and 'q')"))
        }
    }

    /// --repeat: the worst rollback is held against the budget; history --stats and gate show the spread.
    @Test func repeatedRehearsalsShowTheirSpread() async throws {
        try await TemporaryFolder.with { folder in
            // The third rollback is slow: over the budget, so the repeated rehearsal is over budget.
            try folder.write("Rehearsals/p.yml", Self.plan(steps: """
                  a: { run: 'mkdir -p $MARKS; touch $MARKS/a', rollback: 'n=$(cat ../count 2>/dev/null || echo 0); echo $((n+1)) > ../count; [ $n -eq 2 ] && sleep 1.5; rm $MARKS/a' }
                """, budget: "1s"))
            let outcome = try await RehearseBinary.run(["run", "--repeat", "4"], in: folder.path)
            #expect(outcome.status == 1, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("p: 4 of 4 rehearsals (3 passed, 1 over-budget); worst rollback "))
            #expect(outcome.stdout.contains("(run 3, over-budget)"))
            #expect(outcome.stdout.contains("rollback median "))
            let stats = try await RehearseBinary.run(["history", "--stats", "--steps"], in: folder.path)
            #expect(stats.status == 0)
            let row = try #require(stats.stdout.split(separator: "\n").first { $0.hasPrefix("p ") })
            // All four count, the over-budget one too: the p95 is over the budget.
            #expect(row.contains(" 4 "), "\(row)")
            #expect(row.hasSuffix("ms") && row.contains(" -"))
            #expect(stats.stdout.contains("rollback a"))
            // The repeated rehearsals are judged together: one over budget, no go.
            let gate = try await RehearseBinary.run(["gate", "Rehearsals/p.yml", "--target", "production"], in: folder.path)
            #expect(gate.status == 1, "\(gate.stdout)")
            #expect(gate.stdout.contains("over budget"))
            #expect(gate.stdout.contains("rollback on copy: median "))
            // Four more, all quick: go, resting on the repeated group.
            #expect(try await RehearseBinary.run(["run", "--repeat", "2"], in: folder.path).status == 0)
            let go = try await RehearseBinary.run(["gate", "Rehearsals/p.yml", "--target", "production"], in: folder.path)
            #expect(go.status == 0, "\(go.stdout)")
            #expect(go.stdout.contains("a full rehearsal 2 times (group "))
            #expect(try await RehearseBinary.run(["run", "--repeat", "0"], in: folder.path).status == 64)
            #expect(try await RehearseBinary.run(["run", "--repeat", "2", "--every-cut"], in: folder.path).status == 64)
        }
    }

    @Test func killedHarnessLeavesAnAbandonedRunThatRecoverRollsBack() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            // With a fingerprint and a restored check, so that recover can verify.
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: { env: { MARKS: ../marks } } }
                fingerprint: ls ../marks 2>/dev/null; true
                checks:
                  restored: [ { name: no marks, run: 'test -z "$(ls ../marks 2>/dev/null)"' } ]
                steps:
                  a: { run: 'mkdir -p $MARKS; touch $MARKS/a', rollback: 'rm $MARKS/a' }
                  b: { run: 'touch $MARKS/b; touch ../b-started; sleep \(token)', rollback: 'rm $MARKS/b', needs: a }
                  c: { run: 'touch $MARKS/c', rollback: 'rm $MARKS/c', needs: b }
                  d: { run: 'touch $MARKS/d', rollback: 'rm $MARKS/d', needs: a }
                """)
            let killed = try await RehearseBinary.runInterrupted(["--jobs", "1"], in: folder.path,
                                                                 signals: [(folder.path + "/b-started", SIGKILL)])
            #expect(killed.signal == SIGKILL)
            #expect(marks(folder) == ["a", "b"])

            // The next command notices: the run is abandoned, and b's orphaned sleep is stopped.
            let history = try await RehearseBinary.run(["history"], in: folder.path)
            #expect(history.stdout.contains("abandoned"))
            #expect(history.stderr.contains("run 1 was abandoned by a harness that died; stopped"))
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
            let show = try await RehearseBinary.run(["show", "1"], in: folder.path)
            #expect(show.stdout.contains("in flight when the harness died"))
            #expect(show.stdout.contains("still applied: a, b"))

            let recover = try await RehearseBinary.run(["recover"], in: folder.path)
            #expect(recover.status == 0, "\(recover.stdout)\(recover.stderr)")
            #expect(recover.stdout.contains("rolling back a, b"))
            #expect(recover.stdout.contains("run 1: recovered; nothing is left applied"))
            #expect(recover.stdout.contains("verified: restored checks passed; the fingerprint matches the one taken before the run"))
            #expect(marks(folder).isEmpty)
            let again = try await RehearseBinary.run(["recover"], in: folder.path)
            #expect(again.stdout.contains("nothing to recover"))
            let after = try await RehearseBinary.run(["show", "1"], in: folder.path)
            #expect(!after.stdout.contains("still applied"))
        }
    }

    @Test func recoverUsesThePlanAsItWasRehearsed() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: """
                  a: { run: 'mkdir -p $MARKS; touch $MARKS/a', rollback: 'rm $MARKS/a' }
                  b: { run: 'touch $MARKS/b', rollback: 'exit 1', needs: a }
                """))
            #expect(try await RehearseBinary.run([], in: folder.path).status == 2)
            #expect(marks(folder) == ["a", "b"])
            // The operator fixes the rollback in the file, but recover runs what was rehearsed...
            try folder.write("Rehearsals/p.yml", Self.plan(steps: Self.steps))
            let stillBroken = try await RehearseBinary.run(["recover", "1"], in: folder.path)
            #expect(stillBroken.status == 2)
            #expect(stillBroken.stdout.contains("still applied: a, b"))
        }
    }

    /// A run whose rollback failed, then whose teardown removed the copy: recover does not roll
    /// back against a copy that is gone.
    @Test func recoverSaysWhenTheCopyIsGone() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: { env: { MARKS: ../marks }, teardown: rm -rf ../marks } }
                steps:
                  a: { run: 'mkdir -p $MARKS; touch $MARKS/a', rollback: 'echo ran >> ../rolled-back; exit 1' }
                """)
            #expect(try await RehearseBinary.run([], in: folder.path).status == 2)
            #expect(try folder.read("rolled-back") == "ran\n")
            let recover = try await RehearseBinary.run(["recover", "1"], in: folder.path)
            #expect(recover.status == 0, "\(recover.stdout)\(recover.stderr)")
            #expect(recover.stdout.contains("its teardown ran"))
            #expect(recover.stdout.contains("the copy its steps changed is gone, so nothing was rolled back against it"))
            #expect(try folder.read("rolled-back") == "ran\n")
            #expect(try await RehearseBinary.run(["recover"], in: folder.path).stdout.contains("nothing to recover"))
        }
    }

    /// recover verifies: when the copy does not come back, it says so and exits 2.
    @Test func recoverThatCannotVerifyTheCopyExits2() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: { env: { MARKS: ../marks } } }
                fingerprint: ls ../marks
                steps:
                  a: { run: 'mkdir -p $MARKS; touch $MARKS/a $MARKS/residue', rollback: 'test -e ../fixed && rm $MARKS/a' }
                """)
            try folder.write("marks/base", "")
            #expect(try await RehearseBinary.run([], in: folder.path).status == 2)
            try folder.write("fixed", "")
            let recover = try await RehearseBinary.run(["recover", "1"], in: folder.path)
            #expect(recover.status == 2, "\(recover.stdout)")
            #expect(recover.stdout.contains("run 1: recovered; nothing is left applied"))
            #expect(recover.stdout.contains("not verified:"))
            #expect(recover.stdout.contains("the fingerprint after the rollback differs"))
            #expect(recover.stdout.contains("fingerprint: 0 lines removed, 1 added"))
        }
    }

    @Test func twoProcessesWritingOneHistoryLoseNothing() async throws {
        try await TemporaryFolder.with { folder in
            var steps = ""
            for index in 0..<30 { steps += "  s\(index): { run: 'true', rollback: 'true'\(index > 0 ? ", needs: s\(index - 1)" : "") }\n" }
            try folder.write("one/Rehearsals/x.yml", Self.plan(steps: steps))
            // (Another target: two runs of one target's copy never run at once.)
            try folder.write("two/Rehearsals/y.yml", Self.plan(steps: steps).replacingOccurrences(of: "  copy: {", with: "  other: {"))
            let history = folder.path + "/shared.sqlite"
            async let first = RehearseBinary.run(["--history", history], in: folder.path + "/one")
            async let second = RehearseBinary.run(["--history", history, "--target", "other"], in: folder.path + "/two")
            let (a, b) = try await (first, second)
            #expect(a.status == 0, "\(a.stdout)\(a.stderr)")
            #expect(b.status == 0, "\(b.stdout)\(b.stderr)")
            #expect(!a.stderr.contains("cannot record") && !b.stderr.contains("cannot record"))
            for id in ["1", "2"] {
                let show = try await RehearseBinary.run(["show", id, "--json", "--history", history], in: folder.path)
                let run = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])
                #expect(run["status"] as? String == "passed")
                #expect((run["activities"] as? [Any])?.count == 60)
            }
        }
    }
}

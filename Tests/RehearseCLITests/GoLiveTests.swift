import Foundation
import RehearseReports
import RehearseTestSupport
import Testing

/// `rehearse go`, `go --finish` and `rollback` end to end, with the real binary, against a
/// protected "production" made of files beside a copy made of files.
@Suite struct GoLiveTests {
    static let plan = """
        strategy: custom
        budget: { rollback: 30s, step-timeout: 10s }
        targets:
          copy:
            env: { ROOT: ../copy }
            setup: rm -rf "$ROOT" && mkdir -p "$ROOT" && echo v1 > "$ROOT/live" && echo kept > "$ROOT/old"
            teardown: rm -rf "$ROOT"
          production:
            protected: true
            env: { ROOT: ../production }
        inputs: [ ../scripts/* ]
        fingerprint: cat "$ROOT/live"
        checks:
          preflight: [ { name: root exists, run: 'test -d "$ROOT"' } ]
          smoke: [ { name: v2 is live, run: 'grep -q v2 "$ROOT/live" && test ! -e "$ROOT/smoke-fails"' } ]
          restored: [ { name: v1 is live, run: 'grep -q v1 "$ROOT/live"' } ]
        steps:
          deploy:
            run: ../scripts/deploy
            rollback: echo v1 > "$ROOT/live"
          retire:
            needs: [deploy]
            run: rm -f "$ROOT/old"
            irreversible: true
        """

    /// A plan, its script, a production of files, and the first rehearsal's outcome.
    func setUp(_ folder: TemporaryFolder, rehearse: Bool = true) async throws {
        try folder.write("Rehearsals/shop.yml", Self.plan)
        try folder.write("scripts/deploy", "#!/bin/sh\necho v2 > \"$ROOT/live\"\n", executable: true)
        try folder.write("production/live", "v1\n")
        try folder.write("production/old", "kept\n")
        if rehearse {
            let run = try await RehearseBinary.run(["run", "Rehearsals/shop.yml"], in: folder.path)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        }
    }

    static let go = ["go", "Rehearsals/shop.yml", "--target", "production", "--approve", "production"]

    @Test func goIsRefusedWithoutAnApprovalAndBeforeAnyRehearsal() async throws {
        try await TemporaryFolder.with { folder in
            try await setUp(folder, rehearse: false)
            let unapproved = try await RehearseBinary.run(["go", "Rehearsals/shop.yml", "--target", "production"], in: folder.path)
            #expect(unapproved.status == 64)
            #expect(unapproved.stderr.contains("--approve"))
            let wrong = try await RehearseBinary.run(["go", "Rehearsals/shop.yml", "--target", "production", "--approve", "copy"], in: folder.path)
            #expect(wrong.status == 64)
            let unrehearsed = try await RehearseBinary.run(Self.go, in: folder.path)
            #expect(unrehearsed.status == 1)
            #expect(unrehearsed.stdout.contains("NO-GO"))
            #expect(unrehearsed.stdout.contains("never rehearsed on copy"))
            #expect(unrehearsed.stdout.contains("nothing was run"))
            #expect(try folder.read("production/live") == "v1\n")
            // Asking changed nothing: not even a history was made.
            #expect(!folder.exists(".rehearse/history.sqlite"))
        }
    }

    @Test func goIsRefusedAfterThePlanOrAnInputChanged() async throws {
        try await TemporaryFolder.with { folder in
            try await setUp(folder)
            try folder.write("scripts/deploy", "#!/bin/sh\necho v2 > \"$ROOT/live\"; echo extra >> \"$ROOT/live\"\n", executable: true)
            let input = try await RehearseBinary.run(Self.go, in: folder.path)
            #expect(input.status == 1)
            #expect(input.stdout.contains("NO-GO"))
            #expect(input.stdout.contains("scripts/deploy"))
            try folder.write("scripts/deploy", "#!/bin/sh\necho v2 > \"$ROOT/live\"\n", executable: true)
            try folder.write("Rehearsals/shop.yml", Self.plan.replacingOccurrences(of: "rollback: 30s", with: "rollback: 40s"))
            let text = try await RehearseBinary.run(Self.go, in: folder.path)
            #expect(text.status == 1)
            #expect(text.stdout.contains("NO-GO"))
            #expect(try folder.read("production/live") == "v1\n")
            #expect(try folder.read("production/old") == "kept\n")
        }
    }

    @Test func goAppliesTheReversibleStepsThenFinishRunsThePointOfNoReturn() async throws {
        try await TemporaryFolder.with { folder in
            try await setUp(folder)
            let go = try await RehearseBinary.run(Self.go + ["--watch", "100ms", "--every", "50ms"], in: folder.path)
            #expect(go.status == 0, "\(go.stdout)\(go.stderr)")
            #expect(go.stdout.contains("LIVE shop on production (run 2)"))
            #expect(go.stdout.contains("shop: APPLIED"))
            #expect(go.stdout.contains("v2 is live (watch 2/2)"))
            #expect(go.stdout.contains("beyond the point of no return, not run: retire"))
            #expect(try folder.read("production/live") == "v2\n")
            #expect(folder.exists("production/old"), "the irreversible step waits for --finish")

            let history = try await RehearseBinary.run(["history"], in: folder.path)
            #expect(history.stdout.contains("live go-live"))
            let show = try await RehearseBinary.run(["show", "2", "--json"], in: folder.path)
            let json = try JSONDecoder().decode(RunDocument.self, from: Data(show.stdout.utf8)).run
            #expect(json.kind == "live")
            #expect(json.status == "applied")
            #expect(json.details?.approval?.target == "production")
            #expect(json.details?.evidenceRun == 1)
            let shown = try await RehearseBinary.run(["show", "2"], in: folder.path)
            #expect(shown.stdout.contains("live      the go-live itself, approved (--approve production) by "))

            // The point of no return asks for a typed confirmation; without a terminal, --yes.
            let unconfirmed = try await RehearseBinary.run(["go", "--finish", "2", "--approve", "production"], in: folder.path)
            #expect(unconfirmed.status == 64)
            #expect(unconfirmed.stderr.contains("--yes"))
            #expect(folder.exists("production/old"))
            let finish = try await RehearseBinary.run(["go", "--finish", "2", "--approve", "production", "--yes"], in: folder.path)
            #expect(finish.status == 0, "\(finish.stdout)\(finish.stderr)")
            #expect(finish.stdout.contains("shop: COMPLETED"))
            #expect(!folder.exists("production/old"))
            let back = try await RehearseBinary.run(["rollback", "2", "--approve", "production"], in: folder.path)
            #expect(back.status == 64)
            #expect(back.stderr.contains("point of no return"))
            #expect(try folder.read("production/live") == "v2\n")
        }
    }

    @Test func aSmokeCheckThatFailsOnlyOnProductionRollsItBack() async throws {
        try await TemporaryFolder.with { folder in
            try await setUp(folder)
            try folder.write("production/smoke-fails", "")
            let go = try await RehearseBinary.run(Self.go, in: folder.path)
            #expect(go.status == 2, "\(go.stdout)\(go.stderr)")
            #expect(go.stdout.contains("rollback triggered: smoke check 'v2 is live' failed"))
            #expect(go.stdout.contains("shop: ROLLED BACK"))
            #expect(go.stdout.contains("rehearsed (run 1)"))
            #expect(try folder.read("production/live") == "v1\n")
            #expect(folder.exists("production/old"))
            // How well the copy predicted the day.
            let compare = try await RehearseBinary.run(["compare", "2"], in: folder.path)
            #expect(compare.status == 0, "\(compare.stdout)\(compare.stderr)")
            #expect(compare.stdout.contains("run 1  ->  run 2 (live)"))
            #expect(compare.stdout.contains("the go-live against its rehearsal"))
            let finish = try await RehearseBinary.run(["go", "--finish", "2", "--approve", "production", "--yes"], in: folder.path)
            #expect(finish.status == 64)
            #expect(folder.exists("production/old"))
        }
    }

    @Test func rollbackRollsALiveRunBackAtTheOperatorsDecision() async throws {
        try await TemporaryFolder.with { folder in
            try await setUp(folder)
            #expect(try await RehearseBinary.run(Self.go, in: folder.path).status == 0)
            #expect(try folder.read("production/live") == "v2\n")
            let unapproved = try await RehearseBinary.run(["rollback", "2"], in: folder.path)
            #expect(unapproved.status == 64)
            let rehearsal = try await RehearseBinary.run(["rollback", "1", "--approve", "copy"], in: folder.path)
            #expect(rehearsal.status == 64)
            #expect(rehearsal.stderr.contains("is a rehearsal, not a go-live"))
            // recover leaves a healthy go-live alone.
            let recover = try await RehearseBinary.run(["recover", "2", "--approve", "production"], in: folder.path)
            #expect(recover.status == 64)
            #expect(try folder.read("production/live") == "v2\n")
            let back = try await RehearseBinary.run(["rollback", "2", "--approve", "production"], in: folder.path)
            #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
            #expect(back.stdout.contains("rolling back live run 2 (shop on production) at the operator's decision: deploy"))
            #expect(back.stdout.contains("shop: ROLLED BACK  rollback "))
            #expect(back.stdout.contains("rollback trigger: the operator's decision"))
            #expect(try folder.read("production/live") == "v1\n")
            let again = try await RehearseBinary.run(["rollback", "2", "--approve", "production"], in: folder.path)
            #expect(again.status == 64)
            // The gate still rests on the rehearsal, not on the live runs.
            let gate = try await RehearseBinary.run(["gate", "Rehearsals/shop.yml", "--target", "production"], in: folder.path)
            #expect(gate.status == 0)
            #expect(gate.stdout.contains("run 1"))
        }
    }

    /// A go-live killed mid-way is journaled and recoverable like a rehearsal (with --approve).
    @Test func aKilledGoIsRecoverable() async throws {
        try await TemporaryFolder.with { folder in
            try await setUp(folder)
            try folder.write("scripts/deploy", "#!/bin/sh\necho v2 > \"$ROOT/live\"\n", executable: true)
            // The same content as rehearsed, but production's smoke check hangs: killed there.
            try folder.write("production/smoke-fails", "")
            let plan = Self.plan.replacingOccurrences(of: "test ! -e \"$ROOT/smoke-fails\"'", with: "test ! -e \"$ROOT/smoke-fails\" || { touch \"$ROOT/in-smoke\"; sleep 5; }'")
            try folder.write("Rehearsals/shop.yml", plan)
            #expect(try await RehearseBinary.run(["run", "Rehearsals/shop.yml"], in: folder.path).status == 0)
            let killed = try await RehearseBinary.runInterrupted(Self.go, in: folder.path,
                                                                 signals: [(folder.path + "/production/in-smoke", SIGKILL)])
            #expect(killed.status != 0)
            #expect(try folder.read("production/live") == "v2\n")
            let refused = try await RehearseBinary.run(["recover", "3"], in: folder.path)
            #expect(refused.status == 64)
            let recover = try await RehearseBinary.run(["recover", "3", "--approve", "production"], in: folder.path)
            #expect(recover.status == 0, "\(recover.stdout)\(recover.stderr)")
            #expect(recover.stdout.contains("recovered; nothing is left applied"))
            #expect(try folder.read("production/live") == "v1\n")
        }
    }

    /// Imported elsewhere, a live run still names the rehearsal its GO rested on: by that run's
    /// number in the history it was imported into.
    @Test func anImportedLiveRunKeepsItsEvidence() async throws {
        try await TemporaryFolder.with { folder in
            try await setUp(folder)
            let go = try await RehearseBinary.run(Self.go, in: folder.path)
            #expect(go.status == 0, "\(go.stdout)\(go.stderr)")
            // Another history whose numbers are already taken: runs 1 and 2 become 3 and 4 there.
            for _ in 0..<2 { #expect(try await RehearseBinary.run(["run", "Rehearsals/shop.yml", "--history", "other.sqlite"], in: folder.path).status == 0) }
            let imported = try await RehearseBinary.run(["history", "import", ".rehearse/history.sqlite", "--history", "other.sqlite"], in: folder.path)
            #expect(imported.stdout.contains("2 run(s) added"), "\(imported.stdout)\(imported.stderr)")
            let show = try await RehearseBinary.run(["show", "4", "--json", "--history", "other.sqlite"], in: folder.path)
            let run = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])
            #expect(run["kind"] as? String == "live", "\(show.stdout)")
            #expect(run["evidence_run"] as? Int == 3, "\(show.stdout)")
        }
    }
}

/// `show --json`'s document.
private struct RunDocument: Decodable {
    var run: RunJSON
}

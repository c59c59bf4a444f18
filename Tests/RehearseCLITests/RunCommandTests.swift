import Foundation
import RehearseTestSupport
import Testing

/// `rehearse run` end to end: the real binary, real `/bin/sh` steps, marker files as evidence.
/// Every step appends `forward ID` or `rollback ID` to `$LOG`, so order can be read back.
@Suite struct RunCommandTests {
    /// A plan whose steps log what they do; `extra` is added under each step as given.
    static func plan(budget: String = "4m", steps: String, checks: String = "", fingerprint: String = "", targets: String = "") -> String {
        """
        strategy: custom
        budget: { rollback: \(budget) }
        targets:
          copy:
            env: { LOG: ../log.txt, MARKS: ../marks }
            setup: mkdir -p ../marks
        \(targets)
        \(fingerprint)
        \(checks)
        steps:
        \(steps)
        """
    }

    /// a -> (b, c) -> d; every rollback removes its marker.
    static let diamond = """
          a: { run: 'echo forward a >> $LOG; touch $MARKS/a', rollback: 'echo rollback a >> $LOG; rm -f $MARKS/a' }
          b: { run: 'echo forward b >> $LOG; touch $MARKS/b', rollback: 'echo rollback b >> $LOG; rm -f $MARKS/b', needs: a }
          c: { run: 'echo forward c >> $LOG; touch $MARKS/c', rollback: 'echo rollback c >> $LOG; rm -f $MARKS/c', needs: a }
          d: { run: 'echo forward d >> $LOG; touch $MARKS/d', rollback: 'echo rollback d >> $LOG; rm -f $MARKS/d', needs: [b, c] }
        """

    func log(_ folder: TemporaryFolder) -> [String] {
        ((try? folder.read("log.txt")) ?? "").split(separator: "\n").map(String.init)
    }

    func marks(_ folder: TemporaryFolder) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path + "/marks")) ?? []).sorted()
    }

    @Test func passingRehearsalRunsForwardThenRollbackInDependencyOrder() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/diamond.yml", Self.plan(steps: Self.diamond))
            let outcome = try await RehearseBinary.run(["--target", "copy", "--jobs", "1"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(log(folder) == ["forward a", "forward b", "forward c", "forward d",
                                    "rollback d", "rollback c", "rollback b", "rollback a"])
            #expect(marks(folder).isEmpty)
            #expect(outcome.stdout.contains("diamond: PASSED  rollback "))
            #expect(outcome.stdout.contains("of 4m budget ("))
        }
    }

    /// `--fail-at STEP` runs STEP, then rolls it back with what came before it.
    @Test(arguments: [
        ("a", ["forward a", "rollback a"], "1 of 4"),
        ("b", ["forward a", "forward b", "rollback b", "rollback a"], "2 of 4"),
        ("d", ["forward a", "forward b", "forward c", "forward d", "rollback d", "rollback c", "rollback b", "rollback a"], "4 of 4"),
    ])
    func failAtRunsTheStepThenRollsBackFromThere(cut: String, expected: [String], applied: String) async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/diamond.yml", Self.plan(steps: Self.diamond))
            let outcome = try await RehearseBinary.run(["run", "--fail-at", cut, "-j", "1"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(log(folder) == expected)
            #expect(marks(folder).isEmpty)
            #expect(outcome.stdout.contains("rollback trigger: --fail-at \(cut)"))
            #expect(outcome.stdout.contains("rehearsed: \(applied) steps applied, fail at \(cut)"))
        }
    }

    /// `--cut-before STEP`: STEP and what needs it never run and are never rolled back.
    @Test(arguments: [
        ("a", [String](), "0 of 4"),
        ("b", ["forward a", "rollback a"], "1 of 4"),
        ("d", ["forward a", "forward b", "forward c", "rollback c", "rollback b", "rollback a"], "3 of 4"),
    ])
    func cutBeforeNeverRunsTheStepNorRollsItBack(cut: String, expected: [String], applied: String) async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/diamond.yml", Self.plan(steps: Self.diamond))
            let outcome = try await RehearseBinary.run(["run", "--cut-before", cut, "-j", "1"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(log(folder) == expected)
            #expect(marks(folder).isEmpty)
            #expect(outcome.stdout.contains("rollback trigger: --cut-before \(cut)"))
            #expect(outcome.stdout.contains("rehearsed: \(applied) steps applied, cut before \(cut)"))
        }
    }

    /// The bug this replaced: a backup step cut without running while its rollback restored a
    /// stale dump from an earlier run, and the rehearsal passed. Now the backup runs first.
    @Test func failAtABackupStepRestoresTheBackupItJustTook() async throws {
        try await TemporaryFolder.with { folder in
            let steps = """
                  backup: { run: 'cp ../data ../backup', rollback: 'cp ../backup ../data' }
                  migrate: { run: 'echo v2 > ../data', rollback: 'cp ../backup ../data', needs: backup }
                """
            try folder.write("Rehearsals/p.yml", Self.plan(steps: steps, checks: """
                checks:
                  restored: [ { name: data is v1, run: 'test "$(cat ../data)" = v1' } ]
                """))
            try folder.write("data", "v1\n")
            try folder.write("backup", "stale\n")  // left by an earlier run
            let outcome = try await RehearseBinary.run(["run", "--fail-at", "backup"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(try folder.read("data") == "v1\n")
        }
    }

    @Test func cutOptionsCannotBeCombined() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/diamond.yml", Self.plan(steps: Self.diamond))
            for arguments in [["--fail-at", "a", "--cut-before", "b"], ["--fail-at", "a", "--every-cut"], ["--copies", "2"], ["--shard", "1/2"],
                              ["--every-cut", "--shard", "3/2"], ["--every-cut", "--copies", "0"]] {
                let outcome = try await RehearseBinary.run(["run"] + arguments, in: folder.path)
                #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            }
            #expect(!folder.exists("log.txt"))
        }
    }

    @Test func aRealForwardFailureFailsTheRehearsalEvenWhenRollbackIsClean() async throws {
        try await TemporaryFolder.with { folder in
            let steps = Self.diamond.replacingOccurrences(of: "run: 'echo forward c >> $LOG; touch $MARKS/c'",
                                                          with: "run: 'echo forward c >> $LOG; echo disk full >&2; exit 3'")
            try folder.write("Rehearsals/diamond.yml", Self.plan(steps: steps))
            let outcome = try await RehearseBinary.run(["-j", "1"], in: folder.path)
            #expect(outcome.status == 2)
            // c failed: its own rollback runs too (it may be partly applied); d never started.
            #expect(log(folder) == ["forward a", "forward b", "forward c", "rollback c", "rollback b", "rollback a"])
            #expect(outcome.stdout.contains("forward step 'c' failed (exit 3)"))
            #expect(outcome.stdout.contains("| disk full"))
            #expect(marks(folder).isEmpty)
        }
    }

    @Test func aFailedRollbackBlocksWhatMustComeAfterItAndSaysWhatIsLeftApplied() async throws {
        try await TemporaryFolder.with { folder in
            let steps = Self.diamond.replacingOccurrences(of: "rollback: 'echo rollback b >> $LOG; rm -f $MARKS/b'",
                                                          with: "rollback: 'echo rollback b >> $LOG; exit 1'")
            try folder.write("Rehearsals/diamond.yml", Self.plan(steps: steps))
            let outcome = try await RehearseBinary.run(["-j", "1"], in: folder.path)
            #expect(outcome.status == 2)
            // b's rollback fails: a's rollback (which assumes b was undone) is not run; c's independent branch is.
            #expect(log(folder).suffix(3) == ["rollback d", "rollback c", "rollback b"])
            #expect(marks(folder) == ["a", "b"])
            #expect(outcome.stdout.contains("left applied: a, b"))
            #expect(outcome.stdout.contains("rollback of 'a' not run: a rollback it depends on failed"))
        }
    }

    @Test func overBudgetExitsOne() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/slow.yml", Self.plan(budget: "50ms", steps: """
                  a: { run: 'true', rollback: 'sleep 0.2' }
                """))
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 1, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("slow: OVER BUDGET  rollback "))
            #expect(outcome.stdout.contains("of 50ms budget (+"))
            #expect(outcome.stdout.contains("slowest rollback steps: a "))
        }
    }

    @Test func fingerprintMismatchFailsWithALineDiff() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/leaky.yml", Self.plan(steps: """
                  a: { run: 'touch $MARKS/a; touch $MARKS/leftover', rollback: 'rm -f $MARKS/a' }
                """, fingerprint: "fingerprint: ls ../marks"))
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.contains("the fingerprint after the rollback differs"))
            #expect(outcome.stdout.contains("fingerprint: 0 lines removed, 1 added"))
            #expect(outcome.stdout.contains("    +leftover"))
            // The full before, after and diff are beside the logs.
            #expect(outcome.stdout.contains("full before, after and diff: "))
            // (The folder is named by the run's number and its unique token: logs/1-xxxxxxxx.)
            let logs = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/.rehearse/logs").first { $0.hasPrefix("1-") })
            #expect(try folder.read(".rehearse/logs/\(logs)/fingerprint.diff").contains("\n+leftover\n"))
            #expect(folder.exists(".rehearse/logs/\(logs)/fingerprint-before.txt") && folder.exists(".rehearse/logs/\(logs)/fingerprint-after.txt"))
        }
    }

    @Test func checksGateTheRehearsal() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/checked.yml", Self.plan(steps: Self.diamond, checks: """
                checks:
                  preflight: [ { name: marks exist, run: 'test -d ../marks' } ]
                  smoke: [ { name: all applied, run: 'test -f ../marks/d' } ]
                  restored: [ { name: all undone, run: 'test -z "$(ls ../marks)"' } ]
                """))
            let passed = try await RehearseBinary.run([], in: folder.path)
            #expect(passed.status == 0, "\(passed.stdout)")
            #expect(passed.stdout.contains("ok    restored    all undone"))
        }
    }

    @Test func failingPreflightAbortsWithNothingToRollBack() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: Self.diamond, checks: """
                checks:
                  preflight: [ { name: copy is up, run: 'exit 7' } ]
                """))
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 2)
            #expect(log(folder).isEmpty)
            #expect(outcome.stdout.contains("preflight check 'copy is up' failed (exit 7)"))
            #expect(outcome.stdout.contains("nothing was rolled back"))
        }
    }

    @Test func failingSmokeCheckTriggersTheRollback() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/s.yml", Self.plan(steps: Self.diamond, checks: """
                checks:
                  smoke: [ { name: new version answers, run: 'exit 1' } ]
                """))
            let outcome = try await RehearseBinary.run(["-j", "1"], in: folder.path)
            #expect(outcome.status == 2)
            #expect(log(folder).suffix(4) == ["rollback d", "rollback c", "rollback b", "rollback a"])
            #expect(outcome.stdout.contains("rollback trigger: smoke check 'new version answers' failed"))
        }
    }

    @Test func protectedTargetIsRefusedWithoutApprovalAndNothingRuns() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: Self.diamond, targets: """
                  production:
                    protected: true
                    env: { LOG: ../log.txt, MARKS: ../marks }
                    setup: mkdir -p ../marks; touch ../setup-ran
                """))
            let refused = try await RehearseBinary.run(["--target", "production"], in: folder.path)
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("target 'production' of plan 'p' is protected: nothing was run"))
            #expect(refused.stderr.contains("--approve production"))
            let wrongApproval = try await RehearseBinary.run(["--target", "production", "--approve", "copy"], in: folder.path)
            #expect(wrongApproval.status == 64)
            #expect(!folder.exists("setup-ran"))
            #expect(log(folder).isEmpty)
            let approved = try await RehearseBinary.run(["--target", "production", "--approve", "production"], in: folder.path)
            #expect(approved.status == 0, "\(approved.stdout)")
            #expect(folder.exists("setup-ran"))
        }
    }

    @Test func invalidPlanAmongSeveralRunsNothing() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/a-good.yml", Self.plan(steps: Self.diamond))
            try folder.write("Rehearsals/b-bad.yml", "strategy: custom\ntargets: { copy: {} }\nsteps: { x: { run: 'true' } }\n")
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 65)
            #expect(outcome.stderr.contains("Rehearsals/b-bad.yml:3:10: error: step 'x' says nothing about its rollback"))
            #expect(outcome.stderr.contains("nothing was run"))
            #expect(log(folder).isEmpty)
        }
    }

    @Test func unknownTargetAndUnknownCutAreUsageErrors() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/d.yml", Self.plan(steps: Self.diamond))
            let target = try await RehearseBinary.run(["--target", "staging"], in: folder.path)
            #expect(target.status == 64)
            #expect(target.stderr.contains("has no target 'staging'; its targets are copy"))
            let cut = try await RehearseBinary.run(["--fail-at", "nope"], in: folder.path)
            #expect(cut.status == 64)
            #expect(log(folder).isEmpty)
        }
    }

    @Test func stepsSeeTheirEnvironmentFolderAndEmptyStdin() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/env.yml", Self.plan(steps: """
                  probe:
                    run: 'echo "$REHEARSE_STEP $REHEARSE_PHASE $REHEARSE_TARGET $REHEARSE_RUN_ID" > ../env.txt; pwd >> ../env.txt; cat >> ../env.txt; echo "stdin-closed" >> ../env.txt'
                    rollback: 'echo "$REHEARSE_STEP $REHEARSE_PHASE" >> ../env.txt'
                """))
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)")
            let lines = try folder.read("env.txt").split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0].hasPrefix("probe forward copy "))
            #expect(lines[0] == "probe forward copy 1")  // the first run of a new history
            #expect(lines[1] == folder.path + "/Rehearsals")
            #expect(lines[2] == "stdin-closed")
            #expect(lines[3] == "probe rollback")
        }
    }

    @Test func parallelStepsReallyOverlap() async throws {
        // x and y each wait for the other to have started: both pass only if they run at once.
        let rendezvous = { (me: String, other: String) in
            "touch ../\(me).started; i=0; while [ ! -f ../\(other).started ]; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.01; done"
        }
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/par.yml", Self.plan(steps: """
                  x: { run: '\(rendezvous("x", "y"))', rollback: 'true' }
                  y: { run: '\(rendezvous("y", "x"))', rollback: 'true' }
                """))
            let parallel = try await RehearseBinary.run(["--jobs", "2"], in: folder.path)
            #expect(parallel.status == 0, "\(parallel.stdout)")
        }
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/par.yml", Self.plan(steps: """
                  x: { run: '\(rendezvous("x", "y"))', rollback: 'true', timeout: 1s }
                  y: { run: '\(rendezvous("y", "x"))', rollback: 'true', timeout: 1s }
                """))
            let serial = try await RehearseBinary.run(["--jobs", "1"], in: folder.path)
            #expect(serial.status == 2)
        }
    }

    @Test func timeoutStopsTheWholeProcessGroupIncludingStubbornGrandchildren() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/t.yml", Self.plan(steps: """
                  hang:
                    run: "sh -c 'trap \\"\\" TERM; sleep \(token)' & trap '' TERM; sleep \(token)"
                    rollback: 'echo rollback hang >> $LOG'
                    timeout: 1s   # applies to the rollback too: room for it on a loaded machine
                """))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.contains("forward step 'hang' failed (timed out)"))
            // The limit as the plan says it, then how long stopping the group took.
            #expect(outcome.stdout.contains("FAIL  forward     hang timed out after 1s, stopped "))
            #expect(outcome.stdout.contains("ms later"))
            #expect(log(folder) == ["rollback hang"])
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    @Test func backgroundChildrenAndDaemonsDoNotOutliveTheRun() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/bg.yml", Self.plan(steps: """
                  careless: { run: 'sleep \(token) & echo started', rollback: 'true' }
                  daemon: { run: 'setsid sh -c "touch ../up-d; exec sleep \(token)" > /dev/null 2>&1 < /dev/null & i=0; while [ ! -e ../up-d ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done', rollback: 'true' }
                """))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
            #expect(outcome.stdout.contains("that steps left running"))
        }
    }

    @Test func binaryAndLargeOutputAreLoggedNotPrinted() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/noisy.yml", Self.plan(steps: """
                  noisy: { run: 'head -c 20000000 /dev/urandom; echo; echo the end; exit 1', rollback: 'true' }
                """))
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.contains("| the end"))
            #expect(outcome.stdout.utf8.count < 20_000)
            #expect(!outcome.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" })
            let logs = try FileManager.default.subpathsOfDirectory(atPath: folder.path + "/.rehearse/logs")
            let log = try #require(logs.first { $0.hasSuffix("forward-noisy.log") })
            let path = folder.path + "/.rehearse/logs/" + log
            // The log keeps its first and last 8 MiB (the default --log-limit of 16MB), and says what it left out.
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            #expect(size > 16 * 1024 * 1024 && size < 16 * 1024 * 1024 + 200)
            let handle = try #require(FileHandle(forReadingAtPath: path))
            try handle.seek(toOffset: UInt64(size - 8))
            #expect(String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).hasSuffix("the end\n"))
            try handle.seek(toOffset: 8 * 1024 * 1024)
            let middle = String(decoding: handle.readData(ofLength: 200), as: UTF8.self)
            #expect(middle.contains("[rehearse: \(20_000_000 + 9 - 16 * 1024 * 1024) bytes of output left out here"))
        }
    }

    @Test func missingCommandAndVanishedFolderAreReportedNotCrashed() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/gone.yml", Self.plan(steps: """
                  typo: { run: 'deploy-thing-that-does-not-exist', rollback: 'true' }
                """))
            let missing = try await RehearseBinary.run([], in: folder.path)
            #expect(missing.status == 2)
            #expect(missing.stdout.contains("exit 127"))
            #expect(missing.stdout.contains("not found"))
        }
        try await TemporaryFolder.with { folder in
            // The first step removes the folder every later command runs from.
            try folder.write("plans/Rehearsals/gone.yml", Self.plan(steps: """
                  vandal: { run: 'rm -rf "$PWD"', rollback: 'true' }
                  after: { run: 'true', rollback: 'true', needs: vandal }
                """).replacingOccurrences(of: "../", with: "\(folder.path)/"))
            let outcome = try await RehearseBinary.run(["run", "plans/Rehearsals/gone.yml"], in: folder.path)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.contains("could not start: its folder"))
            #expect(outcome.stdout.contains("left applied: vandal"))
        }
    }

    @Test func worstOutcomeOfSeveralPlansSetsTheExitCode() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/1-ok.yml", Self.plan(steps: "  a: { run: 'true', rollback: 'true' }"))
            try folder.write("Rehearsals/2-slow.yml", Self.plan(budget: "10ms", steps: "  a: { run: 'true', rollback: 'sleep 0.1' }"))
            let overBudget = try await RehearseBinary.run([], in: folder.path)
            #expect(overBudget.status == 1)
            try folder.write("Rehearsals/3-broken.yml", Self.plan(steps: "  a: { run: 'false', rollback: 'true' }"))
            let failed = try await RehearseBinary.run([], in: folder.path)
            #expect(failed.status == 2)
            #expect(failed.stdout.contains("1-ok: PASSED"))
            #expect(failed.stdout.contains("2-slow: OVER BUDGET"))
            #expect(failed.stdout.contains("3-broken: FAILED"))
        }
    }
}

import Foundation
import RehearseTestSupport
import Testing

/// Stop hooks with the real binary: a step stopped by its timeout runs its hook first, with the
/// step's environment and the reason; the hook is recorded and shown; a hook that hangs is
/// stopped after the kill grace and fails the rehearsal.
@Suite struct StopHookCLITests {
    static func plan(stop: String) -> String {
        """
        strategy: custom
        targets: { copy: {} }
        steps:
          slow:
            run: 'echo started > ../slow.txt; sleep 20'
            rollback: 'echo undone >> ../slow.txt'
            timeout: 300ms
            stop: \(stop)
        """
    }

    @Test func aTimedOutStepRunsItsHookWhichIsRecordedAndShown() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(stop: #"'echo "$REHEARSE_STOP_REASON $REHEARSE_PHASE $REHEARSE_STEP" > ../stopped.txt'"#))
            let outcome = try await RehearseBinary.run(["--kill-grace", "500ms", "--history", "h.db"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            #expect(try folder.read("stopped.txt") == "timeout forward slow\n")
            // Progress shows the hook; the rollback still ran.
            #expect(outcome.stdout.contains("ok    stop hook   slow"), "\(outcome.stdout)")
            #expect(try folder.read("slow.txt") == "started\nundone\n")
            let shown = try await RehearseBinary.run(["report", "1", "--format", "json", "--history", "h.db"], in: folder.path)
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains(#""phase" : "stop""#), "\(shown.stdout)")
        }
    }

    @Test func aHookThatHangsIsStoppedAfterTheKillGraceAndFailsTheRun() async throws {
        try await TemporaryFolder.with { folder in
            let token = ProcessProbe.uniqueSleepSeconds()
            try folder.write("Rehearsals/p.yml", Self.plan(stop: "'sleep \(token)'"))
            let outcome = try await RehearseBinary.run(["--kill-grace", "300ms"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            // Stopped as a timeout (not waited for: the run went on to its rollback and its end).
            #expect(outcome.stdout.contains("the stop hook of step 'slow' failed (timed out)"), "\(outcome.stdout)")
            #expect(outcome.stdout.contains("ok    rollback    slow"), "\(outcome.stdout)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }
}

/// A step past its timeout is a failure from that moment: nothing more starts while it is being
/// stopped (its hook, the kill grace), and the trigger is then, so that stopping it is rollback time.
@Suite struct TimedOutStepCLITests {
    @Test func nothingStartsWhileATimedOutStepIsStoppedAndTheTriggerIsItsTimeout() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'sleep 20', rollback: 'true', timeout: 200ms, stop: 'sleep 1' }
                  c: { run: 'sleep 0.6', rollback: 'true' }
                  d: { run: 'echo ran >> ../d.txt', rollback: 'echo undone >> ../d.txt', needs: [c] }
                """)
            let outcome = try await RehearseBinary.run(["--jobs", "2", "--kill-grace", "2s", "--history", "h.db"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            // `c` ended while `a`'s hook ran: `d`, which needs it, never started.
            #expect(!folder.exists("d.txt"), "\(outcome.stdout)")
            #expect(!outcome.stdout.contains("start forward     d"), "\(outcome.stdout)")
            // The trigger is `a`'s timeout, before its hook: the hook is rollback time.
            let shown = try await RehearseBinary.run(["show", "1", "--json", "--history", "h.db"], in: folder.path)
            let run = try #require((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])
            let trigger = try #require(run["trigger_offset_ns"] as? Int)
            let activities = try #require(run["activities"] as? [[String: Any]])
            let hook = try #require(activities.first { $0["phase"] as? String == "stop" })
            #expect(trigger <= (hook["start_offset_ns"] as? Int ?? 0), "\(shown.stdout)")
            #expect((run["rollback_ns"] as? Int ?? 0) >= 1_000_000_000, "\(shown.stdout)")
        }
    }
}

/// A harness killed while a step ran: `recover` runs that step's stop hook first, with
/// `REHEARSE_STOP_REASON=harness-died`, before it rolls anything back.
@Suite struct RecoverStopHookCLITests {
    @Test func recoverRunsTheHooksOfStepsAKilledHarnessLeftRunning() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  slow:
                    run: 'touch ../started; sleep 20'
                    rollback: 'echo rolled-back >> ../events'
                    stop: 'echo "hook $REHEARSE_STOP_REASON $REHEARSE_PHASE" >> ../events'
                """)
            let killed = try await RehearseBinary.runInterrupted([], in: folder.path, signals: [(folder.path + "/started", SIGKILL)])
            #expect(killed.signal == SIGKILL, "\(killed.stdout)\(killed.stderr)")
            let recover = try await RehearseBinary.run(["recover"], in: folder.path)
            #expect(recover.status == 0, "\(recover.stdout)\(recover.stderr)")
            #expect(try folder.read("events") == "hook harness-died forward\nrolled-back\n")
        }
    }
}

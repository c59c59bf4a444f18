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
            #expect(outcome.stdout.contains("stop") && outcome.stdout.contains("slow"))
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

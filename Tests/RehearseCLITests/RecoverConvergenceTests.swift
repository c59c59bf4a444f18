import Foundation
import RehearseTestSupport
import Testing

/// `recover` converges: a rollback that was in flight when the harness died is named as uncertain,
/// the operator can say it completed, and recoveries of one run do not overlap.
@Suite struct RecoverConvergenceTests {
    @Test func aRollbackInFlightWhenKilledIsUncertainAndAssumeDoneLetsRecoverFinish() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets:
                  copy: { env: { DATA: ../data } }
                steps:
                  a:
                    run: 'mkdir -p "$DATA" && touch "$DATA/a" "$DATA/z"'
                    # Its effect first, then a pause: killed there, the effect is done but unrecorded.
                    # (It waits for a file that never comes: the kill finds it there, however late.)
                    rollback: 'rm "$DATA/a" && touch "$DATA/in-rollback" && { until [ -e "$DATA/never" ]; do sleep 0.05; done; } && rm "$DATA/z"'
                    timeout: 30s
                  b: { run: 'exit 1', rollback: 'true', needs: a, atomic: true }
                """)
            let killed = try await RehearseBinary.runInterrupted(["run"], in: folder.path,
                                                                 signals: [(folder.path + "/data/in-rollback", SIGKILL)])
            #expect(killed.status != 0)
            #expect(!folder.exists("data/a") && folder.exists("data/z"))
            // Run again, the rollback fails (its effect is done): recover says so and what to do.
            let stuck = try await RehearseBinary.run(["recover"], in: folder.path)
            #expect(stuck.status == 2, "\(stuck.stdout)\(stuck.stderr)")
            #expect(stuck.stdout.contains("uncertain: the rollback of 'a' was in flight when the harness died"))
            #expect(stuck.stdout.contains("rehearse recover 1 --assume-done a"))
            let wrong = try await RehearseBinary.run(["recover", "1", "--assume-done", "b"], in: folder.path)
            #expect(wrong.status == 64)
            let done = try await RehearseBinary.run(["recover", "1", "--assume-done", "a"], in: folder.path)
            #expect(done.status == 0, "\(done.stdout)\(done.stderr)")
            #expect(done.stdout.contains("recovered; nothing is left applied"))
            let show = try await RehearseBinary.run(["show", "1"], in: folder.path)
            #expect(show.stdout.contains("assumed-done"))
            #expect(try await RehearseBinary.run(["recover", "1"], in: folder.path).stdout.contains("nothing is left applied"))
        }
    }
}

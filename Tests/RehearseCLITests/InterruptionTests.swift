import Foundation
import RehearseTestSupport
import Testing

/// SIGINT, SIGTERM and SIGHUP sent to a real `rehearse` process in the middle of a run, and a
/// reader of its output that goes away.
@Suite struct InterruptionTests {
    /// a is applied; b signals that it has started, then sleeps with a token the test looks for.
    static func plan(token: String, slowRollback: Bool = false) -> String {
        """
        strategy: custom
        targets:
          copy: { env: { LOG: ../log.txt } }
        steps:
          a: { run: 'echo forward a >> $LOG', rollback: 'echo rollback a >> $LOG' }
          b:
            needs: a
            run: 'echo forward b >> $LOG; touch ../b-started; sleep \(token)'
            rollback: '\(slowRollback ? "touch ../b-rollback-started; sleep \(token); " : "")echo rollback b >> $LOG'
          c: { run: 'echo forward c >> $LOG', rollback: 'echo rollback c >> $LOG', needs: b }
        """
    }

    @Test(arguments: [(SIGINT, Int32(130), "SIGINT"), (SIGTERM, Int32(143), "SIGTERM"), (SIGHUP, Int32(129), "SIGHUP")])
    func firstSignalStopsTheForwardStepsRollsBackAndExits(signal: Int32, expectedStatus: Int32, name: String) async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/slow.yml", Self.plan(token: token))
            let outcome = try await RehearseBinary.runInterrupted(
                ["--kill-grace", "200ms"], in: folder.path, signals: [(folder.path + "/b-started", signal)])
            #expect(outcome.signal == nil)
            #expect(outcome.status == expectedStatus, "\(outcome.stdout)\(outcome.stderr)")
            let log = try folder.read("log.txt").split(separator: "\n").map(String.init)
            // b was running, so it is rolled back too; c never started.
            #expect(log == ["forward a", "forward b", "rollback b", "rollback a"])
            #expect(outcome.stdout.contains("rollback trigger: interrupted by \(name)"))
            #expect(outcome.stdout.contains("slow: INTERRUPTED by \(name)"))
            #expect(outcome.stderr.contains("stopping running steps and rolling back"))
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    @Test func secondSignalAbandonsTheRollbackAndSaysWhatIsLeftApplied() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/slow.yml", Self.plan(token: token, slowRollback: true))
            let outcome = try await RehearseBinary.runInterrupted(
                ["--kill-grace", "200ms"], in: folder.path,
                signals: [(folder.path + "/b-started", SIGINT), (folder.path + "/b-rollback-started", SIGINT)])
            #expect(outcome.status == 130, "\(outcome.stdout)\(outcome.stderr)")
            let log = try folder.read("log.txt").split(separator: "\n").map(String.init)
            #expect(log == ["forward a", "forward b"])
            #expect(outcome.stderr.contains("abandoning the rollback"))
            #expect(outcome.stdout.contains("left applied: a, b"))
            #expect(outcome.stdout.contains("rollback of 'a' abandoned (a second interruption"))
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    /// `rehearse run | head -1`: the reader goes away after one line; the harness does not die
    /// with steps applied (SIGPIPE), it stops printing and finishes the rehearsal, rollback included.
    @Test func aReaderThatGoesAwayDoesNotStopTheRollback() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets:
                  copy: { env: { LOG: ../log.txt } }
                steps:
                  a: { run: 'echo forward a >> $LOG; seq 1 2000', rollback: 'echo rollback a >> $LOG' }
                  b: { run: 'sleep 0.2; echo forward b >> $LOG', rollback: 'echo rollback b >> $LOG', needs: a }
                """)
            let script = "'\(RehearseBinary.url.path)' run --verbose | head -1; echo \"${PIPESTATUS[0]}\" > status"
            let result = try await Tool.run("bash", ["-c", "cd '\(folder.path)' && \(script)"])
            #expect(result != nil)
            #expect(try folder.read("status").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            let log = try folder.read("log.txt").split(separator: "\n").map(String.init)
            #expect(log == ["forward a", "forward b", "rollback b", "rollback a"])
        }
    }
}

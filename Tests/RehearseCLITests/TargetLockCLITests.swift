import Foundation
import RehearseTestSupport
import Testing

/// Two rehearsals of one target's copy never run at once: the second exits 75 naming the holder,
/// or waits with --wait; other targets do not wait; a killed holder frees it. With a history file
/// (an flock beside it) and with a PostgreSQL history (an advisory lock).
@Suite struct TargetLockCLITests {
    /// `slow` holds the copy until the file `go` exists (or 20 s pass), after saying it started.
    static let plan = """
        strategy: custom
        targets: { copy: {}, staging: {} }
        steps:
          slow: { run: '[ "$REHEARSE_TARGET" = staging ] && exit 0; touch ../started; i=0; while [ ! -f ../go ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done', rollback: 'true' }
        """

    static func waitFor(_ path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: path), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(FileManager.default.fileExists(atPath: path), "\(path) never appeared")
    }

    /// `REHEARSE_HISTORY` for `backend`'s history (none for the default file).
    static func environment(_ backend: HistoryBackend, _ folder: TemporaryFolder) async throws -> [String: String?] {
        backend == .postgres ? ["REHEARSE_HISTORY": try await backend.freshLocation(in: folder)] : [:]
    }

    @Test(arguments: HistoryBackend.available)
    func aSecondRehearsalOfTheSameCopyIsRefusedNamingTheHolderAndAWaitingOneGoesOnAfter(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan)
            let environment = try await Self.environment(backend, folder)
            let holder = Task { try await RehearseBinary.run([], in: folder.path, environment: environment) }
            try await Self.waitFor(folder.path + "/started")

            let refused = try await RehearseBinary.run([], in: folder.path, environment: environment)
            #expect(refused.status == 75, "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("target 'copy' (copy 1) is busy: run 1 of p (host "), "\(refused.stderr)")
            #expect(refused.stderr.contains(", pid ") && refused.stderr.contains("since ") && refused.stderr.contains("nothing was run"))
            #expect(refused.stderr.contains("--wait"))

            // Another target does not wait.
            let other = try await RehearseBinary.run(["--target", "staging"], in: folder.path, environment: environment)
            #expect(other.status == 0, "\(other.stdout)\(other.stderr)")

            // One that waits starts when the holder ends.
            let waiter = Task { try await RehearseBinary.run(["--wait", "60s"], in: folder.path, environment: environment) }
            try await Task.sleep(for: .milliseconds(300))
            try folder.write("go", "")
            let first = try await holder.value
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
            let waited = try await waiter.value
            #expect(waited.status == 0, "\(waited.stdout)\(waited.stderr)")
            // The refused one left no run behind: runs 1 (holder), 2 (staging) and 3 (waiter).
            let history = try await RehearseBinary.run(["history", "--json"], in: folder.path, environment: environment)
            let runs = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any]
            #expect((runs?["runs"] as? [Any])?.count == 3, "\(history.stdout)")
        }
    }

    @Test(arguments: HistoryBackend.available)
    func aHolderKilledWithSigkillFreesTheCopy(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan)
            let environment = try await Self.environment(backend, folder)
            let killed = try await RehearseBinary.runInterrupted([], in: folder.path, signals: [(folder.path + "/started", SIGKILL)],
                                                                 environment: environment)
            #expect(killed.signal == SIGKILL || killed.status != 0)
            try folder.write("go", "")
            // (--wait: the server sees the killed harness's connection closed a moment later.)
            let wait = backend == .postgres ? ["--wait", "10s"] : []
            // The copy is free (not busy, 75), but the killed run left it changed: refused until recovered.
            let refused = try await RehearseBinary.run(wait, in: folder.path, environment: environment)
            #expect(refused.status == 64, "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("copy 1 of target 'copy' still has what run 1 (p) left applied: "), "\(refused.stderr)")
            #expect(refused.stderr.contains("fix: roll it back first: rehearse recover 1"), "\(refused.stderr)")
            let recovered = try await RehearseBinary.run(["recover"] + wait, in: folder.path, environment: environment)
            #expect(recovered.status == 0, "\(recovered.stdout)\(recovered.stderr)")
            let next = try await RehearseBinary.run(wait, in: folder.path, environment: environment)
            #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
            let runs = try await RehearseBinary.run(["history", "--json"], in: folder.path, environment: environment)
            #expect(runs.stdout.components(separatedBy: "\"status\"").count - 1 == 2, "\(runs.stdout)")
        }
    }
}

extension TargetLockCLITests {
    /// `--repeat 3`, whose first run's rollback fails and leaves the copy changed: the other two
    /// never start on it, and the exit code is the failed run's (2), not a usage error's.
    @Test func aRepeatStopsAtTheCopyItsOwnRunLeftChanged() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'echo a >> ../ran', rollback: 'exit 1' }
                """)
            let outcome = try await RehearseBinary.run(["--repeat", "3"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stderr.contains("copy 1 of target 'copy' still has what run 1 (p) left applied: a"), "\(outcome.stderr)")
            #expect(outcome.stderr.contains("the runs after it were not run"), "\(outcome.stderr)")
            #expect(try folder.read("ran") == "a\n")
        }
    }
}

extension TargetLockCLITests {
    /// The reported hole: a rollback that leaves a column behind fails once (its fingerprint
    /// differs), and a CI retry used to pass from the changed copy, and the gate then said GO.
    @Test func aRetryAfterABrokenRollbackNeitherPassesNorGetsAGo() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {}, production: { protected: true } }
                fingerprint: 'mkdir -p ../state; ls ../state'
                steps:
                  add-column: { run: 'mkdir -p ../state; touch ../state/col', rollback: 'true' }
                """)
            #expect(try await RehearseBinary.run([], in: folder.path).status == 2)
            let retry = try await RehearseBinary.run([], in: folder.path)
            #expect(retry.status == 2, "\(retry.stdout)\(retry.stderr)")
            #expect(retry.stdout.contains("the copy differs from what run 1 started from"), "\(retry.stdout)")
            let gate = try await RehearseBinary.run(["gate", "Rehearsals/p.yml", "--target", "production"], in: folder.path)
            #expect(gate.status != 0 && !gate.stdout.hasPrefix("GO"), "\(gate.stdout)")
            // A plan without a fingerprint passing on the copy shows nothing about it.
            try folder.write("Rehearsals/b.yml", "strategy: custom\ntargets: { copy: {} }\nsteps:\n  x: { run: 'true', rollback: 'true' }\n")
            #expect(try await RehearseBinary.run(["Rehearsals/b.yml"], in: folder.path).status == 0)
            #expect(try await RehearseBinary.run(["Rehearsals/p.yml"], in: folder.path).stdout.contains("the copy differs from what run 1 started from"))
            try FileManager.default.removeItem(atPath: folder.path + "/state/col")
            let restored = try await RehearseBinary.run(["Rehearsals/p.yml"], in: folder.path)
            #expect(restored.status == 2, "the rollback is still broken: \(restored.stdout)")
            #expect(restored.stdout.contains("the fingerprint after the rollback differs"), "\(restored.stdout)")
        }
    }
}

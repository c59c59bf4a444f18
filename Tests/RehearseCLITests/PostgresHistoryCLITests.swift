import Foundation
import RehearseTestSupport
import Testing

/// `--history postgresql://…` end to end, with the real binary and a real server: the sample
/// rehearses into it and every reading command reads it, many rehearsals write it at once, a
/// SIGKILLed harness is found abandoned and recovered, and the password is never shown.
@Suite(.enabled(if: PostgresServer.isAvailable, "PostgreSQL is not installed"))
struct PostgresHistoryCLITests {
    /// Every output of `outcome`, checked for the URL's password.
    static func expectNoPassword(_ outcome: RehearseBinary.Outcome, _ command: String) {
        #expect(!(outcome.stdout + outcome.stderr).contains(PostgresServer.urlPassword), "\(command) showed the password")
    }

    @Test func theSampleRehearsesIntoASharedHistoryThatEveryCommandReads() async throws {
        try await TemporaryFolder.with { folder in
            try SampleRehearsalTests().copySample(into: folder)
            let url = try await PostgresServer.freshDatabase()
            let shown = url.replacingOccurrences(of: ":" + PostgresServer.urlPassword, with: "")
            let run = try await RehearseBinary.run(["--target", "copy", "--history", url], in: folder.path)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            Self.expectNoPassword(run, "run")
            // The logs are on this machine, in the project's .rehearse/; no history file is made.
            #expect(folder.exists(".rehearse/logs"))
            #expect(!folder.exists(".rehearse/history.sqlite"))

            // From the environment, as a CI job sets it.
            let again = try await RehearseBinary.run(["run", "Rehearsals/shop-blue-green.yml"], in: folder.path, environment: ["REHEARSE_HISTORY": url])
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            let commands: [[String]] = [
                ["history"], ["history", "--json"], ["show"], ["show", "1", "--json"], ["compare"], ["compare", "1", "5"],
                ["gate", "Rehearsals/shop-blue-green.yml", "--target", "production"],
                ["report", "--format", "markdown"], ["report", "--format", "junit"], ["runbook", "Rehearsals/shop-blue-green.yml"],
            ]
            for command in commands {
                let outcome = try await RehearseBinary.run(command + ["--history", url], in: folder.path)
                #expect(outcome.status == 0, "\(command): \(outcome.stdout)\(outcome.stderr)")
                Self.expectNoPassword(outcome, command.joined(separator: " "))
            }
            let listed = try await RehearseBinary.run(["history", "--history", url], in: folder.path)
            #expect(listed.stdout.components(separatedBy: "passed").count - 1 == 5, "\(listed.stdout)")
            let gate = try await RehearseBinary.run(["gate", "Rehearsals/shop-blue-green.yml", "--target", "production", "--history", url], in: folder.path)
            #expect(gate.stdout.hasPrefix("GO"), "\(gate.stdout)")
            let missing = try await RehearseBinary.run(["show", "99", "--history", url], in: folder.path)
            #expect(missing.status == 64 && missing.stderr.contains("there is no run 99 in \(shown)"), "\(missing.stderr)")
            Self.expectNoPassword(missing, "show 99")
        }
    }

    /// 16 rehearsals (16 targets, so that none waits for another's lock) write one history at once.
    @Test func sixteenConcurrentRehearsalsLoseNothing() async throws {
        try await TemporaryFolder.with { folder in
            let targets = (1...16).map { "t\($0)" }
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { \(targets.map { "\($0): {}" }.joined(separator: ", ")) }
                steps:
                  a: { run: 'sleep 0.02', rollback: 'sleep 0.01' }
                  b: { run: 'sleep 0.02', rollback: 'sleep 0.01', needs: a }
                  c: { run: 'sleep 0.02', rollback: 'sleep 0.01', needs: b }
                """)
            let url = try await PostgresServer.freshDatabase()
            let outcomes = try await withThrowingTaskGroup(of: RehearseBinary.Outcome.self) { group in
                for target in targets {
                    group.addTask { try await RehearseBinary.run(["--target", target, "--history", url], in: folder.path) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for outcome in outcomes { #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)") }
            let listed = try await RehearseBinary.run(["history", "--json", "--limit", "100", "--history", url], in: folder.path)
            let runs = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
            #expect(runs.count == 16)
            #expect(Set(runs.compactMap { $0["target"] as? String }) == Set(targets))
            #expect(runs.allSatisfy { $0["status"] as? String == "passed" })
            // Every step of every run, both ways.
            let steps = try await PostgresServer.sql(
                "SELECT count(*) FROM rehearse.activity WHERE kind IN ('forward', 'rollback') AND status = 'passed'", in: url)
            #expect(steps.trimmingCharacters(in: .whitespacesAndNewlines) == "96")
        }
    }

    /// A harness killed with SIGKILL mid-run: the next command finds its run abandoned (from its
    /// advisory lock, gone with its connection), its target's lock is free, and `recover` rolls
    /// back what it left applied.
    @Test func aKilledHarnessIsFoundAbandonedAndRecovered() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'touch ../a-applied', rollback: 'rm ../a-applied' }
                  b: { run: 'touch ../started; sleep 30', rollback: 'true', needs: a }
                """)
            let url = try await PostgresServer.freshDatabase()
            let killed = try await RehearseBinary.runInterrupted(["--history", url], in: folder.path, signals: [(folder.path + "/started", SIGKILL)],
                                                                 environment: [:])
            #expect(killed.signal == SIGKILL)
            #expect(folder.exists("a-applied"))
            let listed = try await RehearseBinary.run(["history", "--history", url], in: folder.path)
            #expect(listed.stdout.contains("abandoned"), "\(listed.stdout)\(listed.stderr)")
            let recovered = try await RehearseBinary.run(["recover", "--history", url], in: folder.path)
            #expect(recovered.status == 0, "\(recovered.stdout)\(recovered.stderr)")
            #expect(!folder.exists("a-applied"))
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'true', rollback: 'true' }
                """)
            let next = try await RehearseBinary.run(["--history", url], in: folder.path)
            #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        }
    }

    @Test func anUnreachableHistoryStopsTheRunBeforeAnythingRunsWithoutShowingThePassword() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'touch ../ran', rollback: 'true' }
                """)
            let url = "postgresql://alice:\(PostgresServer.urlPassword)@127.0.0.1:1/history"
            let outcome = try await RehearseBinary.run([], in: folder.path, environment: ["REHEARSE_HISTORY": url])
            #expect(outcome.status == 70, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stderr.contains("postgresql://alice@127.0.0.1:1/history"), "\(outcome.stderr)")
            Self.expectNoPassword(outcome, "run")
            #expect(!folder.exists("ran"))
        }
    }
}

extension PostgresHistoryCLITests {
    /// The harness's session cut mid-step (a server restart, a network blip): it takes a new one
    /// with its locks, and a second rehearsal of the same copy is refused meanwhile, never run
    /// beside it.
    @Test func aCutSessionNeverLetsASecondRehearsalOntoTheCopy() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'mkdir ../held', rollback: 'rmdir ../held' }
                  b: { run: 'touch ../started; i=0; while [ ! -f ../go ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done', rollback: 'true', needs: a }
                """)
            let base = try await PostgresServer.freshDatabase()
            let first = Task { try await RehearseBinary.run(["--history", base + "?application_name=rehearse-first"], in: folder.path) }
            try await TargetLockCLITests.waitFor(folder.path + "/started")
            _ = try await PostgresServer.sql(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'rehearse-first'", in: base)
            let second = try await RehearseBinary.run(["--history", base], in: folder.path)
            #expect(second.status == 75, "\(second.stdout)\(second.stderr)")
            #expect(second.stderr.contains("is busy: run 1 of p"), "\(second.stderr)")
            try folder.write("go", "")
            let ended = try await first.value
            // Taken again within a second, the run goes on (or, had a write failed, stops and rolls back): never beside another.
            #expect(ended.status == 0 || ended.status == 70, "\(ended.stdout)\(ended.stderr)")
            #expect(!folder.exists("held"))
            let listed = try await RehearseBinary.run(["history", "--json", "--history", base], in: folder.path)
            let runs = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
            #expect(runs.count == 1, "\(listed.stdout)")
        }
    }

    /// `go` on the day, from a rehearsal another machine recorded in the shared history.
    @Test func goLivesFromTheSharedHistory() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {}, production: { protected: true } }
                steps:
                  a: { run: 'echo "$REHEARSE_TARGET" >> ../applied', rollback: 'true' }
                """)
            let url = try await PostgresServer.freshDatabase()
            let rehearsed = try await RehearseBinary.run(["--history", url], in: folder.path)
            #expect(rehearsed.status == 0, "\(rehearsed.stdout)\(rehearsed.stderr)")
            let live = try await RehearseBinary.run(["go", "Rehearsals/p.yml", "--target", "production", "--approve", "production", "--history", url],
                                                    in: folder.path)
            #expect(live.status == 0, "\(live.stdout)\(live.stderr)")
            Self.expectNoPassword(live, "go")
            #expect(try folder.read("applied") == "copy\nproduction\n")
        }
    }

    /// Reading commands never make a history: an empty database stays empty.
    @Test func readingCommandsLeaveAnEmptyDatabaseAlone() async throws {
        try await TemporaryFolder.with { folder in
            let url = try await PostgresServer.freshDatabase()
            for command in [["history"], ["show"], ["compare"], ["report", "--format", "json"]] {
                let outcome = try await RehearseBinary.run(command + ["--history", url], in: folder.path)
                #expect(outcome.status == 64 && outcome.stderr.contains("no rehearsals recorded yet"), "\(command): \(outcome.stderr)")
            }
            let schemas = try await PostgresServer.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'rehearse'", in: url)
            #expect(schemas.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            #expect(!folder.exists(".rehearse"))
            let swapped = try await RehearseBinary.run(["history", "export", url, "--history", url], in: folder.path)
            #expect(swapped.status == 64, "\(swapped.stdout)\(swapped.stderr)")
            Self.expectNoPassword(swapped, "history export URL")
        }
    }
}

extension PostgresHistoryCLITests {
    /// Sessions cut while a step and while a rollback runs, the next journal write right after:
    /// the end the server said is read before that write is sent, the session replaced with its
    /// locks, and the run goes on, recorded in full.
    @Test func sessionsCutBeforeJournalWritesAreReplacedAndTheRunIsRecordedInFull() async throws {
        try await TemporaryFolder.with { folder in
            let base = try await PostgresServer.freshDatabase()
            let port = base.split(separator: ":").last.map { String($0.prefix { $0.isNumber }) } ?? ""
            let database = String(base.split(separator: "/").last ?? "")
            try folder.write("cut.sh", """
                psql -X -q -h 127.0.0.1 -p \(port) -U postgres -d \(database) \\
                  -c "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'rehearse-cut'" >/dev/null
                """)
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'sh ../cut.sh; mkdir ../held', rollback: 'sh ../cut.sh; rmdir ../held' }
                  b: { run: 'sleep 0.2', rollback: 'true', needs: a }
                """)
            let outcome = try await RehearseBinary.run(["--history", base + "?application_name=rehearse-cut"], in: folder.path)
            // Passed, or (had a write met the cut in flight) failed with exit 70: what is printed is what is recorded.
            #expect(outcome.status == 0 || outcome.status == 70, "\(outcome.stdout)\(outcome.stderr)")
            let verdict = outcome.status == 0 ? "passed" : "failed"
            #expect(outcome.stdout.contains("p: \(verdict.uppercased())"), "\(outcome.stdout)")
            #expect(!folder.exists("held"))
            let recorded = try await PostgresServer.sql("SELECT status FROM rehearse.run", in: base)
            #expect(recorded.trimmingCharacters(in: .whitespacesAndNewlines) == verdict)
            let rollbacks = try await PostgresServer.sql("SELECT string_agg(status, ',') FROM rehearse.activity WHERE kind = 'rollback'", in: base)
            #expect(rollbacks.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").allSatisfy { $0 == "passed" })
            Self.expectNoPassword(outcome, "run")
        }
    }

    /// Something like a URL that is not PostgreSQL's is never taken for a file's path (whose
    /// folders would be named with the password).
    @Test func aMistypedURLIsRefusedAndNothingIsCreated() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", "strategy: custom\ntargets: { copy: {} }\nsteps:\n  a: { run: 'true', rollback: 'true' }\n")
            for url in ["postgresq://u:\(PostgresServer.urlPassword)@127.0.0.1:1/h", "postgresql:/u:\(PostgresServer.urlPassword)@h/d",
                        "mysql://u:\(PostgresServer.urlPassword)@h/d", "host=127.0.0.1 dbname=h user=u password=\(PostgresServer.urlPassword)"] {
                let outcome = try await RehearseBinary.run(["--history", url], in: folder.path)
                #expect(outcome.status == 70 && outcome.stderr.contains("is neither a history file nor a PostgreSQL URL"), "\(outcome.stderr)")
                Self.expectNoPassword(outcome, url)
            }
            let made = try FileManager.default.subpathsOfDirectory(atPath: folder.path)
            #expect(!made.contains { $0.contains(PostgresServer.urlPassword) || $0.contains(".rehearse") }, "\(made)")
        }
    }
}

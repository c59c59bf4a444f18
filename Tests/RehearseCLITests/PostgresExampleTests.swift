import Foundation
import RehearseTestSupport
import Testing

/// The PostgreSQL example (`Fixtures/examples/postgres`) against a real server: it passes; a
/// broken down migration fails it with a readable fingerprint diff; `--every-cut` finishes; a
/// backfill stopped by its timeout has its UPDATE cancelled by the stop hook before the rollback
/// starts (and without the hook, it is still running then).
@Suite(.enabled(if: PostgresServer.isAvailable, "PostgreSQL's server is not installed (apt-get install postgresql)"))
struct PostgresExampleTests {
    /// Runs `rehearse ARGUMENTS` in the copied example against the shared server, in databases of its own.
    func rehearse(_ arguments: [String], in example: String, rows: Int = 3000, extra: [String: String] = [:]) async throws -> RehearseBinary.Outcome {
        let server = try await PostgresServer.shared()
        var environment: [String: String?] = server.environment.mapValues { $0 }
        environment["SHOP_ROWS"] = String(rows)
        environment["SHOP_DB_PREFIX"] = "t" + UUID().uuidString.prefix(8).lowercased()
        for (name, value) in extra { environment[name] = value }
        return try await RehearseBinary.run(arguments, in: example, environment: environment)
    }

    func edit(_ file: String, _ change: (String) -> String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let changed = change(text)
        #expect(changed != text, "the edit of \(file) changed nothing")
        try changed.write(toFile: file, atomically: true, encoding: .utf8)
    }

    @Test func theExamplePasses() async throws {
        try await TemporaryFolder.with { folder in
            let example = try PostgresServer.copyExample(to: folder)
            let outcome = try await rehearse(["--target", "copy"], in: example)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("orders-total: PASSED"))
            // The window ran on the new version, its orders survived, and the copy matches the control.
            #expect(outcome.stdout.contains("kept        the 20 orders survive"))
            #expect(outcome.stdout.contains("fingerprint of the control"))
            #expect(!outcome.stdout.contains("steps left running"))
        }
    }

    @Test func aBrokenDownMigrationFailsWithAReadableFingerprintDiff() async throws {
        try await TemporaryFolder.with { folder in
            let example = try PostgresServer.copyExample(to: folder)
            // The down migration forgets the new column.
            try edit(example + "/migrations/001-expand.down.sql") { $0.replacingOccurrences(of: "ALTER TABLE orders DROP COLUMN IF EXISTS total;\n", with: "") }
            let outcome = try await rehearse(["--target", "copy"], in: example)
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("the fingerprint after the rollback differs"), "\(outcome.stdout)")
            // The diff names the column left behind, as pg_dump prints it.
            #expect(outcome.stdout.contains("+    total numeric(12,2)"), "\(outcome.stdout)")
        }
    }

    @Test func everyCutFinishes() async throws {
        try await TemporaryFolder.with { folder in
            let example = try PostgresServer.copyExample(to: folder)
            let outcome = try await rehearse(["--target", "copy", "--every-cut"], in: example)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("every cut point, 4 rehearsals"), "\(outcome.stdout)")
            for cut in ["fail at expand", "fail at index", "fail at read-new", "full rehearsal"] {
                #expect(outcome.stdout.contains(cut))
            }
        }
    }

    /// The backfill's UPDATE over 200,000 rows (about 2 s) is stopped by a 1 s timeout (on a
    /// loaded machine, 300 ms could pass before psql had even sent it). With the stop hook
    /// the server is running none of it when the rollback starts; without, it usually still is
    /// (the lock the rollback then waits for).
    @Test(arguments: [true, false])
    func aStoppedBackfillIsCancelledBeforeTheRollbackStarts(withHook: Bool) async throws {
        try await TemporaryFolder.with { folder in
            let example = try PostgresServer.copyExample(to: folder)
            try edit(example + "/Rehearsals/orders-total.yml") { plan in
                var plan = plan.replacingOccurrences(of: "    rollback: none                    # the column it fills goes with expand's rollback\n",
                                                     with: "    rollback: none\n    timeout: 1s\n")
                if !withHook { plan = plan.replacingOccurrences(of: "    stop: ../scripts/cancel           # a stopped backfill's UPDATE would run on, holding its locks\n", with: "") }
                return plan
            }
            let trace = folder.path + "/trace.txt"
            let outcome = try await rehearse(["--target", "copy"], in: example, rows: 200_000, extra: ["SHOP_TRACE": trace])
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("forward step 'backfill' failed (timed out)"), "\(outcome.stdout)")
            let seen = try String(contentsOfFile: trace, encoding: .utf8)
            if withHook {
                #expect(outcome.stdout.contains("ok    stop hook   backfill"), "\(outcome.stdout)")
                #expect(seen == "down 001-expand: 0 other active queries\n", "\(outcome.stdout)")
            } else {
                // Usually still running (1); on a loaded machine the UPDATE may have ended on its own
                // before the rollback started: what the hook guarantees, nothing else does.
                #expect(seen == "down 001-expand: 1 other active queries\n" || seen == "down 001-expand: 0 other active queries\n",
                        "\(outcome.stdout)")
            }
            // Either way the copy came back: expand's rollback waited for the lock if it had to.
            #expect(!outcome.stdout.contains("rollback of"), "\(outcome.stdout)")
        }
    }
}

/// A PostgreSQL server that the target's setup starts belongs to the copy: it is not stopped as a
/// step's leftover (the steps reach it), the teardown stops it; with no teardown it runs on and
/// the run names it.
@Suite(.enabled(if: PostgresServer.isAvailable, "PostgreSQL's server is not installed (apt-get install postgresql)"))
struct SetupStartedServerTests {
    static func plan(port: Int, folder: String, teardown: Bool) -> String {
        """
        strategy: custom
        targets:
          copy:
            env: { PGPORT: "\(port)", PGHOST: 127.0.0.1, PGUSER: postgres, DATA: "\(folder)/data" }
            setup: '"\(PostgresServer.script)" start "$DATA"'
        \(teardown ? "    teardown: '\"\(PostgresServer.script)\" stop \"$DATA\"'" : "")
        steps:
          a: { run: "psql -X -At -d postgres -c 'SELECT 1'", rollback: "psql -X -At -d postgres -c 'SELECT 2'" }
        """
    }

    func answers(port: Int) async throws -> Bool {
        try await Tool.run("psql", ["-X", "-At", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"])?.status == 0
    }

    @Test(arguments: [true, false])
    func theServerSurvivesTheRunsCleanupAndTheTeardownStopsIt(teardown: Bool) async throws {
        try await TemporaryFolder.with { folder in
            let port = FreePort.pick()
            try folder.write("Rehearsals/p.yml", Self.plan(port: port, folder: folder.path, teardown: teardown))
            defer { _ = try? Process.run(URL(fileURLWithPath: PostgresServer.script), arguments: ["stop", folder.path + "/data"]).waitUntilExit() }
            let outcome = try await RehearseBinary.run(["--kill-grace", "200ms"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            // The step and its rollback reached the server the setup started; nothing of it was a stray.
            #expect(outcome.stdout.contains("ok    rollback    a"), "\(outcome.stdout)")
            #expect(!outcome.stdout.contains("steps left running"), "\(outcome.stdout)")
            if teardown {
                #expect(!outcome.stdout.contains("the target's setup left"), "\(outcome.stdout)")
                #expect(!folder.exists("data/postmaster.pid"))
                #expect(try await !answers(port: port))
            } else {
                // Said once, naming the server (found by the copy's cgroup or its token), which runs on.
                #expect(outcome.stdout.contains("the target's setup left"), "\(outcome.stdout)")
                #expect(outcome.stdout.contains("postgres"), "\(outcome.stdout)")
                #expect(outcome.stdout.contains("a 'teardown' for target 'copy' would stop them"))
                #expect(try await answers(port: port))
            }
        }
    }
}

import Foundation
import RehearseTestSupport
import Testing

/// The real binary against a history that stops taking writes mid-run: nothing more starts,
/// what was applied is rolled back, and the harness's fault exits 70.
@Suite struct FailClosedCLITests {
    @Test func aHistoryThatFillsUpMidRunStopsTheRunRollsBackAndExits70() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets:
                  copy: { env: { DATA: ../data } }
                steps:
                  a: { run: 'mkdir -p "$DATA" && touch "$DATA/a"', rollback: 'rm "$DATA/a"' }
                  b: { run: 'touch "$DATA/b"', rollback: 'rm "$DATA/b"', needs: a }
                  c: { run: 'touch "$DATA/c"', rollback: 'rm "$DATA/c"', needs: b }
                """)
            #expect(try await RehearseBinary.run(["check"], in: folder.path).status == 0)
            // A first run makes the history; then it takes no more than 2 more activity rows.
            #expect(try await RehearseBinary.run(["run"], in: folder.path).status == 0)
            let history = folder.path + "/.rehearse/history.sqlite"
            let trigger = try await Tool.run("sqlite3", [history, """
                CREATE TRIGGER full BEFORE INSERT ON activity WHEN (SELECT count(*) FROM activity) >= (SELECT count(*) FROM activity WHERE run_id = 1) + 2
                BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;
                """])
            #expect(trigger?.status == 0, "\(trigger?.output ?? "sqlite3 is missing")")
            let run = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(run.status == 70, "\(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("nothing more starts, and what was applied is rolled back"))
            #expect(run.stdout.contains("the history could not be written"))
            #expect(run.stdout.contains("STOP  forward     c stopped before it started"))
            #expect(!folder.exists("data/a") && !folder.exists("data/b") && !folder.exists("data/c"))
        }
    }
}

/// Issue 14, item 16: a `logs` that is no folder beside the history is found before the run is
/// recorded: exit 70, nothing run, no run left in the history.
@Suite struct LogsFolderTests {
    @Test func aLogsFileBesideTheHistoryStopsTheRunBeforeItIsRecorded() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'touch ../ran', rollback: 'true' }
                """)
            #expect(try await RehearseBinary.run(["run"], in: folder.path).status == 0)
            try FileManager.default.removeItem(atPath: folder.path + "/ran")
            try FileManager.default.removeItem(atPath: folder.path + "/.rehearse/logs")
            try folder.write(".rehearse/logs", "not a folder")
            let run = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(run.status == 70, "\(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("cannot keep logs in") && run.stderr.contains("it is not a folder; nothing was run"))
            #expect(!run.stderr.contains("NSCocoaErrorDomain"))
            #expect(!folder.exists("ran"))
            let history = try await RehearseBinary.run(["history", "--json"], in: folder.path)
            #expect(history.status == 0)
            #expect(!history.stdout.contains("\"id\" : 2") && !history.stdout.contains("\"id\":2"), "\(history.stdout)")
        }
    }
}

/// `--history` pointed at another application's SQLite file: refused, and the file left untouched.
@Suite struct ForeignHistoryTests {
    @Test(arguments: ["CREATE TABLE run (x INTEGER);", "CREATE TABLE orders (id INTEGER); PRAGMA application_id = 42;"])
    func anotherApplicationsDatabaseIsRefusedUntouched(schema: String) async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", "strategy: custom\ntargets: { copy: {} }\nsteps:\n  a: { run: 'true', rollback: 'true' }\n")
            let foreign = folder.path + "/app.sqlite"
            #expect(try await Tool.run("sqlite3", [foreign, schema])?.status == 0)
            let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
            let run = try await RehearseBinary.run(["run", "--history", foreign], in: folder.path)
            #expect(run.status == 70, "\(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("another application's SQLite database"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == before)
            #expect(!folder.exists("app.sqlite-wal"))
            let history = try await RehearseBinary.run(["history", "--history", foreign], in: folder.path)
            #expect(history.status == 70)
            // A history of rehearse's own is marked as such.
            #expect(try await RehearseBinary.run(["run"], in: folder.path).status == 0)
            let id = try await Tool.run("sqlite3", [folder.path + "/.rehearse/history.sqlite", "PRAGMA application_id"])
            #expect(id?.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(0x5248_5253))
        }
    }
}

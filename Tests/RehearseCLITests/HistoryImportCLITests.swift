import Foundation
import RehearseTestSupport
import Testing

/// Merged histories: every run has a globally unique id; `history import` adds the runs another
/// history has and this one lacks, idempotently, keeping plan texts, activities and
/// fingerprints; `history export --since` writes the runs another machine needs.
@Suite struct HistoryImportCLITests {
    static let plan = """
        strategy: custom
        targets: { copy: { env: { MARKS: ../marks } } }
        fingerprint: ls ../marks
        steps:
          a: { run: 'mkdir -p $MARKS; touch $MARKS/a', rollback: 'rm -f $MARKS/a' }
          b: { run: 'touch $MARKS/b', rollback: 'rm -f $MARKS/b', needs: a }
        """

    static func runs(_ history: String, in folder: String) async throws -> [[String: Any]] {
        let listed = try await RehearseBinary.run(["history", "--json", "--limit", "100", "--history", history], in: folder)
        #expect(listed.status == 0, "\(listed.stderr)")
        return try #require((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
    }

    static func shown(_ id: Any, _ history: String, in folder: String) async throws -> [String: Any] {
        let show = try await RehearseBinary.run(["show", "\(id)", "--json", "--history", history], in: folder)
        return try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])
    }

    @Test func importingShardsMergesTheirRunsOnceWithEverythingKept() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("marks/base", "")
            try folder.write("Rehearsals/p.yml", Self.plan)
            // Two "CI shards", each with its own history, numbering from 1.
            for shard in ["one", "two"] {
                #expect(try await RehearseBinary.run(["--history", "\(shard).sqlite"], in: folder.path).status == 0)
            }
            #expect(try await RehearseBinary.run(["--history", "two.sqlite", "--fail-at", "b"], in: folder.path).status == 0)
            let sources = try await Self.runs("one.sqlite", in: folder.path) + Self.runs("two.sqlite", in: folder.path)
            #expect(sources.count == 3)
            var uids = Set<String>()
            for (history, count) in [("one.sqlite", 1), ("two.sqlite", 2)] {
                for id in 1...count { uids.insert(try #require(try await Self.shown(id, history, in: folder.path)["uid"] as? String)) }
            }
            #expect(uids.count == 3)

            let first = try await RehearseBinary.run(["history", "import", "one.sqlite", "two.sqlite", "--history", "team.sqlite"], in: folder.path)
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
            #expect(first.stdout.contains("one.sqlite: 1 run(s) added, 0 already here"), "\(first.stdout)")
            #expect(first.stdout.contains("two.sqlite: 2 run(s) added, 0 already here"), "\(first.stdout)")
            // Twice: nothing more.
            let again = try await RehearseBinary.run(["history", "import", "two.sqlite", "one.sqlite", "--history", "team.sqlite"], in: folder.path)
            #expect(again.stdout.contains("two.sqlite: 0 run(s) added, 2 already here"), "\(again.stdout)")
            #expect(again.stdout.contains("one.sqlite: 0 run(s) added, 1 already here"))

            let merged = try await Self.runs("team.sqlite", in: folder.path)
            #expect(merged.count == 3)
            var mergedUIDs = Set<String>()
            for run in merged {
                let details = try await Self.shown(run["id"]!, "team.sqlite", in: folder.path)
                mergedUIDs.insert(try #require(details["uid"] as? String))
                // Activities, the plan and the fingerprints came along.
                #expect((details["activities"] as? [Any])?.count ?? 0 >= 4, "\(details)")
                #expect((details["fingerprint_before"] as? String)?.contains("base") == true)
                #expect(details["plan_hash"] as? String != nil)
            }
            #expect(mergedUIDs == uids)
            // What was merged is a history like any: gate and compare read it.
            let compare = try await RehearseBinary.run(["compare", "1", "2", "--history", "team.sqlite"], in: folder.path)
            #expect(compare.status == 0, "\(compare.stdout)\(compare.stderr)")
        }
    }

    @Test func exportSinceWritesWhatAnotherMachineNeeds() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("marks/base", "")
            try folder.write("Rehearsals/p.yml", Self.plan)
            #expect(try await RehearseBinary.run(["--history", "h.sqlite"], in: folder.path).status == 0)
            #expect(try await RehearseBinary.run(["--history", "h.sqlite"], in: folder.path).status == 0)
            let all = try await RehearseBinary.run(["history", "export", "all.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(all.status == 0, "\(all.stdout)\(all.stderr)")
            #expect(all.stdout.contains("all.sqlite: 2 run(s) exported"), "\(all.stdout)")
            let none = try await RehearseBinary.run(["history", "export", "none.sqlite", "--since", "2999-01-01", "--history", "h.sqlite"], in: folder.path)
            #expect(none.stdout.contains("none.sqlite: 0 run(s) exported"), "\(none.stdout)")
            // The export is a history: importing it back into the source adds nothing.
            let back = try await RehearseBinary.run(["history", "import", "all.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(back.stdout.contains("all.sqlite: 0 run(s) added, 2 already here"), "\(back.stdout)")
            // An existing file is never overwritten.
            let over = try await RehearseBinary.run(["history", "export", "all.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(over.status == 70)
            #expect(over.stderr.contains("already exists"), "\(over.stderr)")
            let bad = try await RehearseBinary.run(["history", "export", "x.sqlite", "--since", "yesterday", "--history", "h.sqlite"], in: folder.path)
            #expect(bad.status == 64, "\(bad.stderr)")
        }
    }

    @Test func whatIsNoHistoryIsRefusedAndChangesNothing() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("marks/base", "")
            try folder.write("Rehearsals/p.yml", Self.plan)
            #expect(try await RehearseBinary.run(["--history", "h.sqlite"], in: folder.path).status == 0)
            try folder.write("notes.txt", "not a database")
            let refused = try await RehearseBinary.run(["history", "import", "notes.txt", "--history", "h.sqlite"], in: folder.path)
            #expect(refused.status == 70, "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("notes.txt") && refused.stderr.contains("not an SQLite database"), "\(refused.stderr)")
            #expect(try folder.read("notes.txt") == "not a database")
            let missing = try await RehearseBinary.run(["history", "import", "nowhere.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(missing.status == 70)
            #expect(missing.stderr.contains("does not exist"))
            // A history from a newer rehearse: refused, as --history refuses it.
            #expect(try await RehearseBinary.run(["--history", "newer.sqlite"], in: folder.path).status == 0)
            _ = try await Tool.run("sqlite3", [folder.path + "/newer.sqlite", "INSERT INTO grdb_migrations VALUES ('v99: from the future')"])
            let newer = try await RehearseBinary.run(["history", "import", "newer.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(newer.status == 70)
            #expect(newer.stderr.contains("newer rehearse"), "\(newer.stderr)")
            #expect(try await Self.runs("h.sqlite", in: folder.path).count == 1)
        }
    }

    /// A run whose harness was killed is still `running` in its own history: not over, left out.
    @Test func aRunStillRunningThereIsLeftOut() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'touch ../started; sleep 20', rollback: 'true' }
                """)
            let killed = try await RehearseBinary.runInterrupted(["--history", "shard.sqlite"], in: folder.path,
                                                                  signals: [(folder.path + "/started", SIGKILL)])
            #expect(killed.signal == SIGKILL)
            let imported = try await RehearseBinary.run(["history", "import", "shard.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(imported.stdout.contains("shard.sqlite: 0 run(s) added, 0 already here, 1 still running there (left out)"), "\(imported.stdout)")
            _ = try await RehearseBinary.run(["history", "--history", "shard.sqlite"], in: folder.path)  // stops its sleep
        }
    }

    /// A history from before globally unique ids: its runs get ids derived from what they
    /// recorded, the same at every import, so importing it twice still adds nothing.
    @Test func anOlderHistoryImportedTwiceAddsItsRunsOnce() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("marks/base", "")
            try folder.write("Rehearsals/p.yml", Self.plan)
            #expect(try await RehearseBinary.run(["--history", "old.sqlite"], in: folder.path).status == 0)
            #expect(try await RehearseBinary.run(["--history", "old.sqlite"], in: folder.path).status == 0)
            // As a rehearse before schema v10 left it: no uid column, no v10 migration.
            let downgrade = try await Tool.run("sqlite3", [folder.path + "/old.sqlite",
                "DROP INDEX run_by_uid; ALTER TABLE run DROP COLUMN uid; DELETE FROM grdb_migrations WHERE identifier LIKE 'v10:%';"])
            #expect(downgrade?.status == 0, "\(downgrade?.output ?? "no sqlite3")")
            let first = try await RehearseBinary.run(["history", "import", "old.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(first.stdout.contains("old.sqlite: 2 run(s) added, 0 already here"), "\(first.stdout)\(first.stderr)")
            let second = try await RehearseBinary.run(["history", "import", "old.sqlite", "--history", "h.sqlite"], in: folder.path)
            #expect(second.stdout.contains("old.sqlite: 0 run(s) added, 2 already here"), "\(second.stdout)\(second.stderr)")
            // The file itself was only read.
            let columns = try await Tool.run("sqlite3", [folder.path + "/old.sqlite", "SELECT count(*) FROM pragma_table_info('run') WHERE name = 'uid'"])
            #expect(columns?.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }
}

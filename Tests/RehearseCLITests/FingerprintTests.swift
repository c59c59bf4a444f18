import Foundation
import RehearseTestSupport
import Testing

/// The fingerprint end to end: a copy made of files, a digest of it, and the settings that make
/// the comparison trustworthy (ignore, accept, probe).
@Suite struct FingerprintTests {
    static func plan(fingerprint: String, steps: String) -> String {
        """
        strategy: custom
        targets:
          copy:
            env: { DATA: ../data }
            setup: mkdir -p ../data && printf 'orders 10\\ncustomers 4\\n' > ../data/counts && printf '1 alice\\n2 bob\\n' > ../data/names
        \(fingerprint)
        steps:
        \(steps)
        """
    }

    /// Found in review: a byte 0xFF before and the four characters `\xFF` after read as one
    /// text; the run was PASSED. The digests of the bytes tell them apart.
    @Test func anInvalidByteAndItsEscapeAreNotTheSameState() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(fingerprint: """
                fingerprint:
                  run: 'if [ -e "$DATA/after" ]; then printf "v=\\\\xFF\\n"; else printf "v=\\377\\n"; fi'
                """, steps: "  a: { run: 'true', rollback: 'touch \"$DATA/after\"' }"))
            let outcome = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("differ in bytes their text does not show"), "\(outcome.stdout)")
        }
    }

    /// A fingerprint of row counts cannot see a rollback that loses a name: the probe shows it.
    @Test func aFingerprintBlindToTheProbeFails() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(fingerprint: """
                fingerprint:
                  run: cat "$DATA/counts"
                  probe: { run: 'sed -i s/bob/robert/ "$DATA/names"', undo: 'sed -i s/robert/bob/ "$DATA/names"' }
                """, steps: "  a: { run: 'echo 3 carol >> \"$DATA/names\"', rollback: 'true' }"))
            let outcome = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("the fingerprint cannot see the probe's change"))
            // Nothing forward ran: the rehearsal could not have told.
            #expect(!((try? folder.read("data/names")) ?? "").contains("carol"))
            // A fingerprint that sees the names passes the probe, and then catches the lossy rollback.
            try folder.write("Rehearsals/p.yml", Self.plan(fingerprint: """
                fingerprint:
                  run: cat "$DATA/counts" "$DATA/names"
                  probe: { run: 'sed -i s/bob/robert/ "$DATA/names"', undo: 'sed -i s/robert/bob/ "$DATA/names"' }
                """, steps: "  a: { run: 'echo 3 carol >> \"$DATA/names\"', rollback: 'true' }"))
            let seeing = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(seeing.status == 2)
            #expect(seeing.stdout.contains("ok    fingerprint fingerprint with probe"))
            #expect(seeing.stdout.contains("fingerprint: 0 lines removed, 1 added"))
            #expect(seeing.stdout.contains("    +3 carol"))
        }
    }

    /// A 2 MB fingerprint: the history keeps its first mebibyte, its size and its digest (the
    /// whole output is in the logs); a change past that mebibyte still fails the run, and a run
    /// killed midway is verified by `recover` against the digest.
    @Test func aLargeFingerprintIsBoundedInTheHistoryAndStillComparedWhole() async throws {
        try await TemporaryFolder.with { folder in
            func plan(rollback: String) -> String {
                """
                strategy: custom
                targets:
                  copy:
                    env: { DATA: ../data }
                    setup: mkdir -p ../data && { [ -e ../data/rows ] || seq 1 300000 > ../data/rows; }
                fingerprint: cat "$DATA/rows"
                steps:
                  a:
                    run: 'echo 300001 >> "$DATA/rows" && touch "$DATA/applied" && { [ ! -e "$DATA/pause" ] || sleep 30; }'
                    rollback: \(rollback)
                    timeout: 40s
                """
            }
            try folder.write("Rehearsals/p.yml", plan(rollback: #"'sed -i "\$d" "$DATA/rows"'"#))
            let passing = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
            let report = try await RehearseBinary.run(["report", "--format", "json", "1"], in: folder.path)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
            let run = try #require((document["runs"] as? [[String: Any]])?.first)
            let kept = try #require(run["fingerprint_before"] as? String)
            #expect(kept.utf8.count <= 1 << 20 && kept.hasPrefix("1\n2\n3\n") && kept.hasSuffix("\n"))
            let facts = try #require((run["fingerprints"] as? [String: Any])?["before"] as? [String: Any])
            #expect(facts["whole"] as? Bool == false)
            #expect(facts["bytes"] as? Int == 1_988_895)
            #expect((facts["sha256"] as? String)?.hasPrefix("sha256:") == true)
            // The whole output is in the run's logs.
            let logs = folder.path + "/.rehearse/logs/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/.rehearse/logs").first))
            let out = try #require(try FileManager.default.contentsOfDirectory(atPath: logs).first { $0.hasSuffix("fingerprint-before-fingerprint.out") })
            #expect(try FileManager.default.attributesOfItem(atPath: logs + "/" + out)[.size] as? Int == 1_988_895)

            // A rollback that changes a row past the first mebibyte: a FAIL, saying where to look.
            try folder.write("Rehearsals/p.yml", plan(rollback: #"'sed -i -e "\$d" -e "s/^299990$/0/" "$DATA/rows"'"#))
            let lossy = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(lossy.status == 2, "\(lossy.stdout)")
            #expect(lossy.stdout.contains("the fingerprint after the rollback differs"), "\(lossy.stdout)")
            #expect(lossy.stdout.contains("only their first 1 MiB is kept and shown"))
            // Its files are owner-only, as every log.
            let second = folder.path + "/.rehearse/logs/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/.rehearse/logs").sorted().last))
            for name in ["fingerprint-before.txt", "fingerprint-after.txt", "fingerprint.diff"] {
                #expect(try FileManager.default.attributesOfItem(atPath: second + "/" + name)[.posixPermissions] as? Int == 0o600, "\(name)")
            }
            try folder.write("data/rows", (1...300_000).map { "\($0)\n" }.joined())

            // Killed while the step is applied: recover compares the digest it kept.
            try folder.write("Rehearsals/p.yml", plan(rollback: #"'sed -i "\$d" "$DATA/rows"'"#))
            try folder.write("data/pause", "")
            try FileManager.default.removeItem(atPath: folder.path + "/data/applied")
            let killed = try await RehearseBinary.runInterrupted(["run"], in: folder.path, signals: [(folder.path + "/data/applied", SIGKILL)])
            #expect(killed.status != 0)
            try FileManager.default.removeItem(atPath: folder.path + "/data/pause")
            let recovered = try await RehearseBinary.run(["recover"], in: folder.path)
            #expect(recovered.status == 0, "\(recovered.stdout)\(recovered.stderr)")
            #expect(recovered.stdout.contains("the fingerprint matches the one taken before the run"), "\(recovered.stdout)")
        }
    }

    @Test func aVolatileLineIsIgnoredAndAnAcceptedDifferencePasses() async throws {
        try await TemporaryFolder.with { folder in
            // The digest prints a random line (as pg_dump 15 prints '\restrict KEY'); the rollback
            // leaves a default behind, which the team accepts.
            try folder.write("digest", "#!/bin/sh\nprintf '%s %s\\n' '\\restrict' \"$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')\"\ncat \"$DATA/counts\"\n",
                             executable: true)
            let fingerprint = """
                fingerprint:
                  run: ../digest
                  ignore: [ '^\\\\restrict ' ]
                  accept:
                    - { match: '^default ', reason: the down migration cannot drop a column default }
                """
            try folder.write("Rehearsals/p.yml", Self.plan(fingerprint: fingerprint,
                                                          steps: "  a: { run: 'echo default now >> \"$DATA/counts\"', rollback: 'true' }"))
            let outcome = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("fingerprint: 0 lines removed, 1 added (1 accepted)"))
            #expect(outcome.stdout.contains("accepted: 1 line: the down migration cannot drop a column default"))
            // Said in the record and the summary too, not only on the terminal.
            let show = try await RehearseBinary.run(["show"], in: folder.path)
            #expect(show.stdout.contains("accepted fingerprint difference (1 line): the down migration cannot drop a column default"))
            let summary = try await RehearseBinary.run(["report", "--format", "markdown"], in: folder.path)
            #expect(summary.stdout.contains("accepted fingerprint difference: the down migration cannot drop a column default"))
            // Without the ignore, the random line alone fails it.
            try folder.write("Rehearsals/p.yml", Self.plan(fingerprint: """
                fingerprint: ../digest
                """, steps: "  a: { run: 'true', rollback: 'true' }"))
            let volatile = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(volatile.status == 2)
            #expect(volatile.stdout.contains("fingerprint: 1 line removed, 1 added"))
            // The reports carry the diff.
            let junit = try await RehearseBinary.run(["report", "--format", "junit"], in: folder.path)
            #expect(junit.stdout.contains("1 lines removed, 1 added"))
            #expect(junit.stdout.contains("@@ -1,"))
            let html = try await RehearseBinary.run(["report", "--format", "html"], in: folder.path)
            #expect(html.stdout.contains("<h2>Fingerprint</h2>"))
            #expect(html.stdout.contains("<span class=\"bad\">-\\restrict"))
            let markdown = try await RehearseBinary.run(["report", "--format", "markdown"], in: folder.path)
            #expect(markdown.stdout.contains("```diff"))
        }
    }
}

import Foundation
import RehearseTestSupport
import Testing

/// Each run's processes in a cgroup of its own: a daemon that drops the run's token from its
/// environment and leaves its session is still found and stopped, at the end of the run and,
/// after the harness was killed, by `recover`.
@Suite(.enabled(if: CgroupProbe.canMakeCgroups, "this machine lets no process make a cgroup under its own"))
struct RunCgroupTests {
    static func plan(_ steps: String) -> String {
        """
        strategy: custom
        targets: { copy: { env: { DATA: ../data } } }
        steps:
        \(steps)
        """
    }

    @Test func aDaemonThatScrubsItsEnvironmentDoesNotOutliveThePassedRun() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan("""
                  a: { run: 'setsid env -i sh -c "touch ../up-d; exec sleep \(token)" > /dev/null 2>&1 < /dev/null & grep "^0::" /proc/self/cgroup > ../cgroup; i=0; while [ ! -e ../up-d ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done', rollback: 'true' }
                """))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            let cgroup = try #require(CgroupProbe.folder(ofLine: try folder.read("cgroup")))
            #expect(cgroup.contains("/rehearse-"))
            #expect(!FileManager.default.fileExists(atPath: cgroup))
            #expect(outcome.stdout.contains("PASSED"))
            // Said in the verdict: the token alone would not have found it.
            #expect(outcome.stdout.contains("sleep \(token) (found by the run's cgroup: it had dropped REHEARSE_RUN_TOKEN)"), "\(outcome.stdout)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    /// A step that makes a cgroup under the run's and moves itself into it is still in the run:
    /// its daemon is stopped, and both cgroups are removed.
    @Test func aDaemonInACgroupUnderTheRunsIsStillStopped() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        let mount = try #require(CgroupProbe.mountPoint)
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan("""
                  a: { run: 'cg=\(mount)$(sed -n "s/^0:://p" /proc/self/cgroup); echo "$cg" > ../cgroup; mkdir "$cg/sub" && echo 0 > "$cg/sub/cgroup.procs" && setsid env -i sh -c "touch ../up-d; exec sleep \(token)" > /dev/null 2>&1 < /dev/null & i=0; while [ ! -e ../up-d ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done', rollback: 'true' }
                """))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("sleep \(token) (found by the run's cgroup: it had dropped REHEARSE_RUN_TOKEN)"), "\(outcome.stdout)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
            let cgroup = try folder.read("cgroup").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(cgroup.contains("/rehearse-"))
            #expect(!FileManager.default.fileExists(atPath: cgroup + "/sub"))
            #expect(!FileManager.default.fileExists(atPath: cgroup))
        }
    }

    /// A killed run's cgroup is emptied by the next command that finds the run abandoned, even
    /// one run with `REHEARSE_CGROUP=off` (which only stops new runs from making one).
    @Test func aKilledRunsCgroupIsEmptiedEvenWhenCgroupsAreOff() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan("""
                  a:
                    run: 'setsid env -i sh -c "sleep \(token)" > /dev/null 2>&1 < /dev/null & mkdir -p "$DATA" && grep "^0::" /proc/self/cgroup > "$DATA/cgroup" && touch "$DATA/applied" && sleep 30'
                    rollback: 'true'
                """))
            let killed = try await RehearseBinary.runInterrupted(["run"], in: folder.path, signals: [(folder.path + "/data/applied", SIGKILL)])
            #expect(killed.status != 0)
            let history = try await RehearseBinary.run(["history"], in: folder.path, environment: ["REHEARSE_CGROUP": "off"])
            #expect(history.status == 0, "\(history.stdout)\(history.stderr)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
            let cgroup = try #require(CgroupProbe.folder(ofLine: try folder.read("data/cgroup")))
            #expect(!FileManager.default.fileExists(atPath: cgroup), "the killed run's cgroup is left: \(cgroup)")
        }
    }

    /// Without the cgroup (`REHEARSE_CGROUP=off`) the token still finds what keeps it.
    @Test func withoutTheCgroupTheTokenStillFindsDaemons() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan("""
                  a: { run: 'setsid sh -c "touch ../up-d; exec sleep \(token)" > /dev/null 2>&1 < /dev/null & i=0; while [ ! -e ../up-d ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done', rollback: 'true' }
                """))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path, environment: ["REHEARSE_CGROUP": "off"])
            #expect(outcome.status == 0, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("that steps left running: sleep \(token)"), "\(outcome.stdout)")
            #expect(!outcome.stdout.contains("cgroup"))
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    /// The harness killed mid-run leaves its cgroup with the daemon in it: `recover` stops it and
    /// removes the cgroup.
    @Test func recoverStopsWhatAKilledRunLeftInItsCgroup() async throws {
        let token = ProcessProbe.uniqueSleepSeconds()
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan("""
                  a:
                    run: 'setsid env -i sh -c "sleep \(token)" > /dev/null 2>&1 < /dev/null & mkdir -p "$DATA" && grep "^0::" /proc/self/cgroup > "$DATA/cgroup" && touch "$DATA/applied" && sleep 30'
                    rollback: 'true'
                """))
            let killed = try await RehearseBinary.runInterrupted(["run"], in: folder.path, signals: [(folder.path + "/data/applied", SIGKILL)])
            #expect(killed.status != 0)
            #expect(!(await ProcessProbe.present(matching: "sleep \(token)")).isEmpty)
            let recovered = try await RehearseBinary.run(["recover", "--kill-grace", "100ms"], in: folder.path)
            #expect(recovered.status == 0, "\(recovered.stdout)\(recovered.stderr)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
            let cgroup = try #require(CgroupProbe.folder(ofLine: try folder.read("data/cgroup")))
            #expect(cgroup.contains("/rehearse-"))
            #expect(!FileManager.default.fileExists(atPath: cgroup), "the killed run's cgroup is left: \(cgroup)")
        }
    }
}

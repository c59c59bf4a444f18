import Foundation
import RehearseTestSupport
import Testing

/// The copy's own servers with the real binary: what the target's setup starts survives the
/// run's cleanup (found by the copy's cgroup even when it scrubs its environment) and is named
/// once; a teardown stops it; a step's daemon is still stopped.
@Suite struct CopyServicesCLITests {
    static func plan(setup: String, teardown: String? = nil, step: String = "'true'") -> String {
        """
        strategy: custom
        targets:
          copy:
            setup: \(setup)
        \(teardown.map { "    teardown: \($0)" } ?? "")
        steps:
          a: { run: \(step), rollback: 'true' }
        """
    }

    static func kill(_ tokens: [String]) {
        for token in tokens { for pid in ProcessProbe.processes(matching: token) { Foundation.kill(pid, SIGKILL) } }
    }

    @Test(.enabled(if: CgroupProbe.canMakeCgroups, "this machine lets no process make a cgroup under its own"))
    func whatTheSetupStartsOutlivesTheRunAndIsNamedOnce() async throws {
        let kept = ProcessProbe.uniqueSleepSeconds(), scrubbed = ProcessProbe.uniqueSleepSeconds(), stray = ProcessProbe.uniqueSleepSeconds()
        defer { Self.kill([kept, scrubbed, stray]) }
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(
                setup: "'setsid sh -c \"touch ../up-k; exec sleep \(kept)\" > /dev/null 2>&1 < /dev/null & setsid env -i sh -c \"touch ../up-s; exec sleep \(scrubbed)\" > /dev/null 2>&1 < /dev/null & i=0; while [ ! -e ../up-k ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; i=0; while [ ! -e ../up-s ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done'",
                step: "'setsid sh -c \"touch ../up-t; exec sleep \(stray)\" > /dev/null 2>&1 < /dev/null & i=0; while [ ! -e ../up-t ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done'"))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms", "--history", "h.db"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("PASSED"))
            // The step's daemon is a stray: stopped, as always.
            #expect(outcome.stdout.contains("stopped 1 process(es) that steps left running: sleep \(stray)"), "\(outcome.stdout)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(stray)").isEmpty)
            // The setup's run on, named once, the one that dropped the token too.
            let notes = outcome.stdout.components(separatedBy: "the target's setup left").count - 1
            #expect(notes == 1, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("the target's setup left 2 process(es) running: "), "\(outcome.stdout)")
            #expect(outcome.stdout.contains("sleep \(kept)") && outcome.stdout.contains("sleep \(scrubbed)"))
            #expect(outcome.stdout.contains("a 'teardown' for target 'copy' would stop them"))
            let alive = ProcessProbe.processes(matching: "sleep \(kept)") + ProcessProbe.processes(matching: "sleep \(scrubbed)")
            #expect(alive.count == 2)
            // Released from the copy's cgroup, which is gone.
            for pid in alive {
                let line = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
                #expect(!line.contains("rehearse-"), "\(line)")
            }
            // Recorded with the run.
            let report = try await RehearseBinary.run(["report", "1", "--format", "json", "--history", "h.db"], in: folder.path)
            #expect(report.stdout.contains("\"copy_services\""))
            #expect(report.stdout.contains("sleep \(kept)"))
        }
    }

    @Test func aTeardownStopsTheCopysServicesAndThenNothingIsSaid() async throws {
        let kept = ProcessProbe.uniqueSleepSeconds()
        defer { Self.kill([kept]) }
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(
                setup: "'setsid sh -c \"touch ../up-k; exec sleep \(kept)\" > /dev/null 2>&1 < /dev/null & echo $! > ../pid; i=0; while [ ! -e ../up-k ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done'",
                teardown: "'kill $(cat ../pid)'"))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(!outcome.stdout.contains("the target's setup left"), "\(outcome.stdout)")
            #expect(!outcome.stdout.contains("steps left running"), "\(outcome.stdout)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(kept)").isEmpty)
        }
    }

    /// Without cgroups the copy's token alone finds them: one that keeps its environment is
    /// named and kept.
    @Test func withoutCgroupsTheCopysTokenStillKeepsThemApart() async throws {
        let kept = ProcessProbe.uniqueSleepSeconds()
        defer { Self.kill([kept]) }
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(setup: "'setsid sh -c \"touch ../up-k; exec sleep \(kept)\" > /dev/null 2>&1 < /dev/null & i=0; while [ ! -e ../up-k ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done'"))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path, environment: ["REHEARSE_CGROUP": "off"])
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("the target's setup left 1 process(es) running: sleep \(kept)"), "\(outcome.stdout)")
            #expect(ProcessProbe.processes(matching: "sleep \(kept)").count == 1)
        }
    }

    /// A server the setup starts in the background without detaching (`server &`) is the
    /// copy's too: not killed with the setup's process group when the setup returns.
    @Test func aServerTheSetupLeavesInItsGroupIsNotKilledWithIt() async throws {
        let kept = ProcessProbe.uniqueSleepSeconds()
        defer { Self.kill([kept]) }
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(setup: "'sleep \(kept) > /dev/null 2>&1 < /dev/null &'"))
            let outcome = try await RehearseBinary.run(["--kill-grace", "100ms"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("the target's setup left 1 process(es) running: sleep \(kept)"), "\(outcome.stdout)")
            #expect(ProcessProbe.processes(matching: "sleep \(kept)").count == 1)
        }
    }

    /// A harness killed mid-run: the next command that finds the run abandoned stops the steps'
    /// processes but leaves the copy's servers running (recover needs them), out of the copy's
    /// cgroup, which it removes.
    @Test(.enabled(if: CgroupProbe.canMakeCgroups, "this machine lets no process make a cgroup under its own"))
    func aKilledRunsCopyServicesRunOnAndItsCopyCgroupGoes() async throws {
        let kept = ProcessProbe.uniqueSleepSeconds(), stray = ProcessProbe.uniqueSleepSeconds()
        defer { Self.kill([kept, stray]) }
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(
                setup: "'setsid sleep \(kept) > /dev/null 2>&1 < /dev/null & grep \"^0::\" /proc/self/cgroup > ../copy-cgroup'",
                step: "'setsid sleep \(stray) > /dev/null 2>&1 < /dev/null & touch ../started; sleep 20'"))
            let killed = try await RehearseBinary.runInterrupted([], in: folder.path, signals: [(folder.path + "/started", SIGKILL)])
            #expect(killed.signal == SIGKILL)
            let cgroup = try #require(CgroupProbe.folder(ofLine: try folder.read("copy-cgroup")))
            #expect(cgroup.hasSuffix("-copy"), "\(cgroup)")
            let history = try await RehearseBinary.run(["history"], in: folder.path)
            #expect(history.status == 0, "\(history.stdout)\(history.stderr)")
            #expect(await ProcessProbe.survivors(matching: "sleep \(stray)").isEmpty)
            #expect(ProcessProbe.processes(matching: "sleep \(kept)").count == 1)
            #expect(!FileManager.default.fileExists(atPath: cgroup), "\(cgroup) is left behind")
        }
    }
}

import CProcessSpawn
import Foundation
import RehearseCore
@testable import RehearseRunner
import RehearseTestSupport
import Testing

@Suite struct CommandRunnerTests {
    func command(_ script: String, in folder: TemporaryFolder, timeout: Duration = .seconds(10), env: [String: String] = [:],
                 killGrace: Duration = .seconds(5), live: (@Sendable (String) -> Void)? = nil) -> ShellCommand {
        ShellCommand(activity: Activity(.forward, "test"), script: script, workingDirectory: folder.path,
                     environment: env, timeout: timeout, killGrace: killGrace, logFile: folder.path + "/test.log", liveOutput: live)
    }

    @Test func exitStatusIsAResult() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = await CommandRunner().run(command("echo hello; echo oops >&2; exit 3", in: folder))
            #expect(outcome.termination == .exited(3))
            #expect(!outcome.succeeded)
            #expect(outcome.outputTail == "hello\noops")
            let log = try folder.read("test.log")
            #expect(log == "hello\noops\n")
        }
    }

    @Test func environmentAndFolderReachTheCommand() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = await CommandRunner().run(command("echo \"$GREETING\"; pwd", in: folder, env: ["GREETING": "a b; $c"]))
            #expect(outcome.succeeded)
            #expect(outcome.outputTail == "a b; $c\n\(folder.path)")
        }
    }

    @Test func timeoutStopsTheGroupWithinGrace() async throws {
        try await TemporaryFolder.with { folder in
            // (Two minutes asked: a loaded test process may wake its timer late, never that late.)
            let token = ProcessProbe.uniqueSleepSeconds(120)
            let started = ContinuousClock.now
            let outcome = await CommandRunner().run(
                command("trap '' TERM; sleep \(token) & sleep \(token); wait", in: folder, timeout: .milliseconds(100),
                        killGrace: .milliseconds(100)))
            let took = ContinuousClock.now - started
            #expect(outcome.timedOut)
            #expect(ActivityRecord(Activity(.forward, "test"), outcome: outcome, startOffset: .zero, duration: took).summary == "timed out")
            // Never the two minutes the command asked for (a generous bound: this machine may be loaded).
            #expect(took < .seconds(90))
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    @Test func cancellationStopsTheCommandAndMarksItStopped() async throws {
        try await TemporaryFolder.with { folder in
            let token = ProcessProbe.uniqueSleepSeconds()
            // (A timeout far off: on a loaded machine the cancellation may come seconds late.)
            let task = Task { await CommandRunner().run(command("sleep \(token)", in: folder, timeout: .seconds(600), killGrace: .milliseconds(100))) }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let outcome = await task.value
            #expect(outcome.stopped)
            #expect(!outcome.timedOut)
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    @Test func missingFolderIsReportedAsCouldNotStart() async throws {
        try await TemporaryFolder.with { folder in
            var shell = command("true", in: folder)
            shell.workingDirectory = folder.path + "/gone"
            let outcome = await CommandRunner().run(shell)
            guard case .couldNotStart(let reason) = outcome.termination else {
                Issue.record("expected couldNotStart, got \(outcome.termination)")
                return
            }
            #expect(reason.contains("does not exist"))
        }
    }

    @Test func tailKeepsTheLastLinesAndDropsControlCharacters() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = await CommandRunner().run(command("seq 1 100; printf 'bell\\a esc\\033[31m red\\n'", in: folder))
            let lines = outcome.outputTail.split(separator: "\n")
            #expect(lines.count == CommandRunner.tailLines)
            #expect(lines.last == "bell esc[31m red")
            #expect(lines.first == "82")
        }
    }

    @Test func liveOutputSeesEveryLine() async throws {
        try await TemporaryFolder.with { folder in
            let lines = Locked([String]())
            let outcome = await CommandRunner().run(command("echo one; echo two >&2; printf three", in: folder,
                                                            live: { line in lines.withLock { $0.append(line) } }))
            #expect(outcome.succeeded)
            LiveOutput.drain()
            #expect(Set(lines.value) == ["one", "two", "three"])
            let log = try folder.read("test.log")
            #expect(log.contains("three"))
        }
    }

    @Test func durationMatchesTheCommand() async throws {
        try await TemporaryFolder.with { folder in
            let started = ContinuousClock.now
            let outcome = await CommandRunner().run(command("sleep 0.1", in: folder))
            // The runner returns only once the command has ended. Only the lower bound is certain:
            // a loaded machine may take any time longer.
            #expect(outcome.succeeded)
            #expect(ContinuousClock.now - started >= .milliseconds(100))
        }
    }
}

extension CommandRunnerTests {
    /// A stopped command whose own process ends at SIGTERM while the rest of its group cleans up:
    /// the rest get the kill grace before SIGKILL, as the whole group is promised.
    @Test func theRestOfAGroupGetsTheGraceWhenItsLeaderEndsFirst() async throws {
        try await TemporaryFolder.with { folder in
            let script = #"sh -c 'trap "sleep 0.3; echo cleaned > cleanup.txt; exit 0" TERM; sleep 100 & wait' & wait"#
            let outcome = await CommandRunner().run(command(script, in: folder, timeout: .milliseconds(300), killGrace: .seconds(3)))
            #expect(outcome.timedOut)
            let cleanup = try folder.read("cleanup.txt")
            #expect(cleanup == "cleaned\n")
        }
    }

    @Test func whatACommandLeavesInItsGroupIsGoneWhenItReturns() async throws {
        try await TemporaryFolder.with { folder in
            let token = ProcessProbe.uniqueSleepSeconds()
            let outcome = await CommandRunner().run(command("sleep \(token) & echo started", in: folder))
            #expect(outcome.succeeded)
            // Killed as the command returns (a SIGKILL is delivered asynchronously: a moment's wait).
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    @Test func aCommandStartsWithDefaultSignalsAndNoInheritedDescriptors() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = await CommandRunner().run(command("grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd | wc -l", in: folder))
            let lines = outcome.outputTail.split(separator: "\n").map(String.init)
            // No signal blocked; none ignored but the two glibc reserves for threads (32, 33).
            #expect(lines.contains { $0.hasPrefix("SigBlk:") && $0.hasSuffix("0000000000000000") })
            #expect(lines.contains { $0.hasPrefix("SigIgn:") && ($0.hasSuffix("0000000000000000") || $0.hasSuffix("0000000180000000")) })
            // stdin, stdout, stderr, and the descriptor `ls` opens to read the folder.
            #expect(lines.last == "4")
        }
    }

    @Test func outputKeepsTheOrderItWasWrittenIn() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = await CommandRunner().run(command("for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; done", in: folder))
            #expect(outcome.outputTail == (1...5).map { "out \($0)\nerr \($0)" }.joined(separator: "\n"))
        }
    }

    /// A process already on its way out with a SIGKILL pending is no stray.
    @Test func aDyingProcessIsNotAStray() async throws {
        try await TemporaryFolder.with { folder in
            let token = ProcessProbe.uniqueSleepSeconds()
            let outcome = await CommandRunner().run(command("sleep \(token) & echo started", in: folder, env: ["REHEARSE_RUN_TOKEN": "dying-\(token)"]))
            #expect(outcome.succeeded)
            // Whether or not the group's SIGKILL has finished it yet, it is not reported.
            #expect(ProcessJanitor.processes(marked: "dying-\(token)").isEmpty)
        }
    }

    @Test func aZombieIsNotALiveGroupMember() async throws {
        // A group whose only member has exited and not been reaped yet is gone.
        var pid: pid_t = 0
        var pidfd: Int32 = -1
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(argv[0]) }
        var joined: Int32 = 0
        let error = rehearse_spawn("/bin/true", argv, [nil], "/", 2, 2, -1, -1, &pid, &pidfd, &joined)
        #expect(error == 0)
        try await Task.sleep(for: .milliseconds(200))  // exited, not reaped: a zombie
        #expect(kill(-pid, 0) == 0)
        #expect(!ProcessJanitor.groupHasLiveMembers(pid))
        var code: Int32 = 0, signaled: Int32 = 0
        _ = rehearse_reap(pidfd, pid, &code, &signaled)
        close(pidfd)
    }

    /// `touch ok\0; rm -rf x` must not run as `touch ok`: it does not run at all.
    @Test func aCommandWithANulCharacterDoesNotRun() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = await CommandRunner().run(command("touch ran\u{0}; true", in: folder))
            guard case .couldNotStart(let reason) = outcome.termination else {
                Issue.record("expected couldNotStart, got \(outcome.termination)")
                return
            }
            #expect(reason.contains("NUL"))
            #expect(!folder.exists("ran"))
        }
    }

    @Test func aLongLastLineKeepsItsEndInTheTail() {
        let tail = CommandRunner.tailText(Array(repeating: UInt8(ascii: "x"), count: 10_000) + Array("!\n".utf8))
        #expect(tail.hasPrefix("…") && tail.hasSuffix("x!"))
    }

    @Test func bidirectionalOverridesAreDropped() {
        #expect(CommandRunner.printable(Array("safe\u{202E}txt.exe".utf8)) == "safetxt.exe")
    }
}

/// A command's log: owner-only, never written through a link someone planted, and capped.
@Suite struct CommandLogTests {
    @Test func aLogIsNeverWrittenThroughAPlantedLinkNorOverAnotherLog() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let victim = folder + "/victim"
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: folder + "/001-forward-a.log", withDestinationPath: victim)
        try "earlier\n".write(toFile: folder + "/001-forward-a.log.1", atomically: true, encoding: .utf8)
        let output = CommandOutput(path: folder + "/001-forward-a.log", live: nil)
        output.write(Array("new output\n".utf8), from: .standardOutput)
        let (_, logFile) = output.finish()
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(try String(contentsOfFile: folder + "/001-forward-a.log.1", encoding: .utf8) == "earlier\n")
        #expect(logFile == folder + "/001-forward-a.log.2")
        #expect(try String(contentsOfFile: folder + "/001-forward-a.log.2", encoding: .utf8) == "new output\n")
        #expect(try FileManager.default.attributesOfItem(atPath: folder + "/001-forward-a.log.2")[.posixPermissions] as? Int == 0o600)
    }

    @Test func aCappedLogKeepsItsHeadAndItsEnd() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = CommandOutput(path: folder + "/a.log", live: nil, limit: 20)
        for line in 1...100 { output.write(Array(String(format: "%03d\n", line).utf8), from: .standardOutput) }
        _ = output.finish()
        let log = try String(contentsOfFile: folder + "/a.log", encoding: .utf8)
        #expect(log.hasPrefix("001\n002\n"))
        #expect(log.hasSuffix("\n099\n100\n"))
        #expect(log.contains("[rehearse: 380 bytes of output left out here"))
    }
}

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
            let token = ProcessProbe.uniqueSleepSeconds()
            let started = ContinuousClock.now
            let outcome = await CommandRunner().run(
                command("trap '' TERM; sleep \(token) & sleep \(token); wait", in: folder, timeout: .milliseconds(100),
                        killGrace: .milliseconds(100)))
            let took = ContinuousClock.now - started
            #expect(outcome.timedOut)
            #expect(ActivityRecord(Activity(.forward, "test"), outcome: outcome, startOffset: .zero, duration: took).summary == "timed out")
            // Never the 30 s the command asked for (a generous bound: this machine may be loaded).
            #expect(took < .seconds(25))
            #expect(await ProcessProbe.survivors(matching: "sleep \(token)").isEmpty)
        }
    }

    @Test func cancellationStopsTheCommandAndMarksItStopped() async throws {
        try await TemporaryFolder.with { folder in
            let token = ProcessProbe.uniqueSleepSeconds()
            let task = Task { await CommandRunner().run(command("sleep \(token)", in: folder, killGrace: .milliseconds(100))) }
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

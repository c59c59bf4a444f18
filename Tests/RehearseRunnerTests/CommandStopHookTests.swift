import Foundation
import RehearseCore
@testable import RehearseRunner
import RehearseTestSupport
import Testing

/// A command's stop hook with real processes: it runs before the process group hears SIGTERM,
/// on a timeout and on cancellation, and is awaited.
@Suite struct CommandStopHookTests {
    /// A command that writes `TERM` to `events` when it gets SIGTERM; the hook writes `hook CAUSE`.
    func command(in folder: TemporaryFolder, timeout: Duration, hookTakes: Duration = .milliseconds(50)) -> ShellCommand {
        var command = ShellCommand(
            activity: Activity(.forward, "migrate"), script: "trap 'echo TERM >> events; exit 143' TERM; while :; do sleep 0.01; done",
            workingDirectory: folder.path, environment: [:], timeout: timeout, killGrace: .seconds(2), logFile: folder.path + "/test.log")
        let events = folder.path + "/events"
        command.onStop = { cause in
            // Slow enough that a SIGTERM sent without waiting for it would come first.
            try? await Task.sleep(for: hookTakes)
            let line = "hook \(cause == .timeout ? "timeout" : "cancelled")\n"
            if let handle = FileHandle(forWritingAtPath: events) ?? {
                _ = FileManager.default.createFile(atPath: events, contents: nil)
                return FileHandle(forWritingAtPath: events)
            }() {
                handle.seekToEndOfFile()
                handle.write(Data(line.utf8))
                try? handle.close()
            }
        }
        return command
    }

    @Test func onTimeoutTheHookRunsBeforeTheGroupIsTerminated() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = await CommandRunner().run(command(in: folder, timeout: .milliseconds(150)))
            #expect(outcome.timedOut)
            #expect((try? folder.read("events")) == "hook timeout\nTERM\n")
        }
    }

    @Test func onCancellationTheHookRunsBeforeTheGroupIsTerminated() async throws {
        try await TemporaryFolder.with { folder in
            let task = Task { await CommandRunner().run(command(in: folder, timeout: .seconds(30))) }
            try await Task.sleep(for: .milliseconds(150))
            task.cancel()
            let outcome = await task.value
            #expect(outcome.stopped)
            #expect((try? folder.read("events")) == "hook cancelled\nTERM\n")
        }
    }

    /// The command ends on its own while its hook runs (the hook lets it end, and waits until it
    /// has): the hook still finishes before the outcome is returned, and nothing is signalled after.
    @Test func aCommandThatEndsDuringItsHookStillWaitsForIt() async throws {
        try await TemporaryFolder.with { folder in
            var command = command(in: folder, timeout: .milliseconds(100))
            command.script = "trap 'echo TERM >> events; exit 143' TERM; while [ ! -f go ]; do sleep 0.01; done; : > exited"
            let path = folder.path
            command.onStop = { cause in
                _ = FileManager.default.createFile(atPath: path + "/go", contents: nil)
                while !FileManager.default.fileExists(atPath: path + "/exited") { try? await Task.sleep(for: .milliseconds(5)) }
                try? await Task.sleep(for: .milliseconds(100))
                _ = FileManager.default.createFile(atPath: path + "/events", contents: Data("hook \(cause == .timeout ? "timeout" : "cancelled")\n".utf8))
            }
            let outcome = await CommandRunner().run(command)
            #expect(outcome.timedOut)
            #expect(outcome.termination == .exited(0))
            #expect((try? folder.read("events")) == "hook timeout\n")
        }
    }
}

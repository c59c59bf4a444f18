import Foundation
public import RehearseCore
import Subprocess
import SystemPackage

/// The same contract as ``CommandRunner`` on swift-subprocess: kept to measure against
/// (`REHEARSE_EXECUTOR=subprocess`, `Benchmarks/runner.sh`). It spends a monitor thread wake-up,
/// two I/O wake-ups and a timer task per command, which made a step cost 1.5–1.9× a shell's.
///
/// Runs shell commands as processes the way every step and check must run: stdin empty, its own
/// process group, output to a log file, stopped as a whole group (SIGTERM, a grace period,
/// SIGKILL) on timeout or when the calling task is cancelled, and with anything it left running
/// in its group killed when it returns.
///
/// A step's stop hook runs before the group is stopped on timeout; on cancellation, only after
/// (swift-subprocess tears the group down at once).
///
/// A non-zero exit is a result, not an error: ``run(_:)`` never throws.
public struct SubprocessCommandRunner: CommandExecutor {
    public init() {}

    public func stopLeftovers(marked mark: String, grace: Duration) async -> [String] {
        await StrayProcesses.stop(marked: mark, grace: grace)
    }

    public func releaseCopyServices(marked mark: String) async -> [String] {
        await CopyServices.release(marked: mark)
    }

    private enum Finish: Sendable {
        case process(Result<TerminationStatus, any Error>)
        case deadline
        case timerCancelled
    }

    /// Runs the command to its end, its timeout, or the calling task's cancellation.
    public func run(_ command: ShellCommand) async -> ProcessOutcome {
        let capture: FileDescriptor?
        do {
            capture = try command.openCaptureFile()
        } catch {
            return ProcessOutcome(termination: .couldNotStart(error.description))
        }
        defer { try? capture?.close() }

        var changes: [Environment.Key: String?] = [:]
        for (name, value) in command.environment { changes[Environment.Key(stringLiteral: name)] = value }
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: command.killGrace)]
        let configuration = Configuration(
            executable: .path("/bin/sh"), arguments: ["-c", command.script],
            environment: .inherit.updating(changes),
            workingDirectory: FilePath(command.workingDirectory), platformOptions: options)

        let output = CommandOutput(path: command.logFile, live: command.liveOutput, limit: command.logLimit)
        let processGroup = Locked<pid_t?>(nil)
        let captureTarget = capture
        var timedOut = false
        var status: Result<TerminationStatus, any Error>?

        await withTaskGroup(of: Finish.self) { group in
            group.addTask {
                do {
                    return .process(.success(try await Self.execute(configuration, output: output, capture: captureTarget, group: processGroup)))
                } catch {
                    return .process(.failure(error))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: command.timeout)
                    // The stop hook before the group is stopped. (On cancellation swift-subprocess
                    // stops the group at once: there the hook runs beside its teardown.)
                    await command.onStop?(.timeout)
                    return .deadline
                } catch {
                    return .timerCancelled
                }
            }
            for await finish in group {
                switch finish {
                case .deadline:
                    timedOut = true
                    group.cancelAll()
                case .timerCancelled:
                    break
                case .process(let result):
                    status = result
                    group.cancelAll()
                }
            }
        }
        let stoppedByCaller = Task.isCancelled && !timedOut
        if stoppedByCaller, let onStop = command.onStop { await Task { await onStop(.cancelled) }.value }
        // Whatever the command left behind in its group (`sleep 100 &`) does not outlive it.
        if let group = processGroup.value, !command.keepsWhatItLeaves || timedOut || stoppedByCaller { kill(-group, SIGKILL) }
        let (tail, logFile) = output.finish()

        let termination: ProcessOutcome.Termination
        switch status {
        case .success(.exited(let code)): termination = .exited(code)
        case .success(.signaled(let signal)): termination = .signaled(signal)
        case .failure(let error): termination = .couldNotStart(Self.explain(error, command: command))
        case nil: termination = .signaled(SIGKILL)
        }
        return ProcessOutcome(
            termination: termination, timedOut: timedOut, stopped: stoppedByCaller, outputTail: tail, logFile: logFile)
    }

    /// Spawns the command with both output streams piped back here and pumped into `output`
    /// (standard output into `capture` instead, when given). Memory stays bounded by the chunk
    /// size, whatever the command prints.
    private static func execute(
        _ configuration: Configuration, output: CommandOutput, capture: FileDescriptor?, group: Locked<pid_t?>
    ) async throws -> TerminationStatus {
        try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) { execution in
            group.withLock { $0 = execution.processIdentifier.value }
            async let errors: Void = pump(execution.standardError) { output.write($0, from: .standardError) }
            try await pump(execution.standardOutput) { bytes in
                if let capture { _ = try? capture.writeAll(bytes) } else { output.write(bytes, from: .standardOutput) }
            }
            try await errors
        }.terminationStatus
    }

    /// Reads a stream to its end. When a grandchild keeps the pipe open after the command exits,
    /// Subprocess ends the read; what that grandchild writes later is not kept.
    private static func pump(_ sequence: SubprocessOutputSequence, into sink: ([UInt8]) -> Void) async throws {
        do {
            for try await buffer in sequence {
                sink(buffer.withUnsafeBytes { Array($0) })
            }
        } catch is CancellationError {
            // The command ended or was stopped: nothing more to read.
        } catch let error as SubprocessError where error.code == .asyncIOFailed || error.code == .failedToReadFromSubprocess {
            // Same, reported by the I/O layer.
        }
    }

    private static func explain(_ error: any Error, command: ShellCommand) -> String {
        guard let error = error as? SubprocessError else { return "\(error)" }
        return switch error.code {
        case .failedToChangeWorkingDirectory:
            "its folder \(command.workingDirectory) does not exist or cannot be entered"
        case .executableNotFound:
            "/bin/sh was not found"
        default:
            "\(error)"
        }
    }
}

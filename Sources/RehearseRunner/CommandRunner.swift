import CProcessControl
import Foundation
public import RehearseCore
import Subprocess
import SystemPackage

/// Runs shell commands as processes the way every step and check must run: stdin empty, its own
/// process group, output to a log file (so a step that prints gigabytes costs the harness
/// nothing), stopped as a whole group (SIGTERM, a grace period, SIGKILL) on timeout or when the
/// calling task is cancelled, and with anything it left running in its group killed when it returns.
///
/// A non-zero exit is a result, not an error: ``run(_:)`` never throws.
public struct CommandRunner: Sendable {
    /// How long a process group gets between SIGTERM and SIGKILL.
    public var killGrace: Duration
    /// The instant offsets are measured from (the start of the run).
    public var origin: ContinuousClock.Instant
    /// When set, every line of output is also handed here as it arrives (`--verbose`).
    public var liveOutput: (@Sendable (Activity, String) -> Void)?
    /// How much of the end of a command's output to keep in its outcome.
    public static let tailBytes = 4096
    public static let tailLines = 20

    public init(killGrace: Duration = .seconds(5), origin: ContinuousClock.Instant = .now,
                liveOutput: (@Sendable (Activity, String) -> Void)? = nil) {
        self.killGrace = killGrace
        self.origin = origin
        self.liveOutput = liveOutput
    }

    private enum Finish: Sendable {
        case process(Result<TerminationStatus, any Error>)
        case deadline
        case timerCancelled
    }

    /// Runs the command to its end, its timeout, or the calling task's cancellation.
    public func run(_ command: ShellCommand) async -> ProcessOutcome {
        let clock = ContinuousClock()
        let log: FileDescriptor
        do {
            log = try FileDescriptor.open(
                FilePath(command.logFile), .writeOnly, options: [.create, .truncate, .append],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            return ProcessOutcome(
                termination: .couldNotStart("cannot write its log \(command.logFile): \(error)"),
                startOffset: clock.now - origin, duration: .zero)
        }
        defer { try? log.close() }
        var capture: FileDescriptor?
        if let captureFile = command.captureFile {
            capture = try? FileDescriptor.open(
                FilePath(captureFile), .writeOnly, options: [.create, .truncate],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
        defer { try? capture?.close() }

        var changes: [Environment.Key: String?] = [:]
        for (name, value) in command.environment { changes[Environment.Key(stringLiteral: name)] = value }
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: killGrace)]
        let configuration = Configuration(
            executable: .path("/bin/sh"), arguments: ["-c", command.script],
            environment: .inherit.updating(changes),
            workingDirectory: FilePath(command.workingDirectory), platformOptions: options)

        let processGroup = Locked<pid_t?>(nil)
        let start = clock.now
        var timedOut = false
        var status: Result<TerminationStatus, any Error>?
        let live = liveOutput
        let stdoutTarget = capture ?? log

        await withTaskGroup(of: Finish.self) { group in
            group.addTask {
                do {
                    let result: TerminationStatus
                    if let live {
                        result = try await Self.runStreaming(configuration, log: log, stdoutTarget: stdoutTarget,
                                                             activity: command.activity, live: live, group: processGroup)
                    } else {
                        result = try await Subprocess.run(
                            configuration, input: .none,
                            output: .fileDescriptor(stdoutTarget, closeAfterSpawningProcess: false),
                            error: .fileDescriptor(log, closeAfterSpawningProcess: false)
                        ) { execution in
                            processGroup.withLock { $0 = execution.processIdentifier.value }
                        }.terminationStatus
                    }
                    return .process(.success(result))
                } catch {
                    return .process(.failure(error))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: command.timeout)
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
        let end = clock.now
        let stoppedByCaller = Task.isCancelled && !timedOut
        // Whatever the command left behind in its group (`sleep 100 &`) does not outlive it.
        if let group = processGroup.value { kill(-group, SIGKILL) }

        let termination: ProcessOutcome.Termination
        switch status {
        case .success(.exited(let code)): termination = .exited(code)
        case .success(.signaled(let signal)): termination = .signaled(signal)
        case .failure(let error): termination = .couldNotStart(Self.explain(error, command: command))
        case nil: termination = .signaled(SIGKILL)
        }
        return ProcessOutcome(
            termination: termination, timedOut: timedOut, stopped: stoppedByCaller,
            startOffset: start - origin, duration: end - start,
            outputTail: Self.tail(of: command.logFile), logFile: command.logFile)
    }

    /// Streams output through the harness, for `--verbose`: each chunk goes to the log and each
    /// line to `live`. Memory stays bounded by the chunk size, whatever the command prints.
    private static func runStreaming(
        _ configuration: Configuration, log: FileDescriptor, stdoutTarget: FileDescriptor, activity: Activity,
        live: @escaping @Sendable (Activity, String) -> Void, group: Locked<pid_t?>
    ) async throws -> TerminationStatus {
        try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) { execution in
            group.withLock { $0 = execution.processIdentifier.value }
            async let errors: Void = pump(execution.standardError, into: log, activity: activity, live: live)
            try await pump(execution.standardOutput, into: stdoutTarget, activity: activity, live: live)
            try await errors
        }.terminationStatus
    }

    private static func pump(
        _ sequence: SubprocessOutputSequence, into file: FileDescriptor, activity: Activity,
        live: @Sendable (Activity, String) -> Void
    ) async throws {
        var pending: [UInt8] = []
        for try await buffer in sequence {
            let bytes = buffer.withUnsafeBytes { Array($0) }
            _ = try? file.writeAll(bytes)
            pending.append(contentsOf: bytes)
            while let newline = pending.firstIndex(of: 0x0A) {
                live(activity, printable(pending[..<newline]))
                pending.removeSubrange(...newline)
            }
            if pending.count > 64 * 1024 {
                live(activity, printable(pending[...]))
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { live(activity, printable(pending[...])) }
    }

    /// The last lines of a log, as text safe to print: invalid UTF-8 replaced, control characters
    /// other than tab dropped.
    public static func tail(of path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(tailBytes) ? size - UInt64(tailBytes) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        var lines = printable(data[...]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if start > 0, !lines.isEmpty { lines.removeFirst() }  // a partial first line
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.suffix(tailLines).joined(separator: "\n")
    }

    static func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let text = String(decoding: bytes, as: UTF8.self)
        return String(String.UnicodeScalarView(text.unicodeScalars.filter {
            $0 == "\n" || $0 == "\t" || !($0.properties.generalCategory == .control)
        }))
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

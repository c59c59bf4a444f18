import CProcessSpawn
import Foundation
public import RehearseCore
import SystemPackage

/// Runs shell commands as processes the way every step and check must run: `/bin/sh -c` in the
/// plan's folder, stdin empty, its own process group with default signal handling, its output
/// (both streams, in the order written) to a log file created on the first byte and a tail kept
/// in memory, stopped as a whole group
/// (SIGTERM, the kill grace, SIGKILL) on timeout or when the calling task is cancelled, and with
/// anything it left running in its group killed when it returns.
///
/// Processes start with `vfork` and `exec` (as `posix_spawn` does, joining the run's cgroup in
/// between: ``RunCgroup``) and are watched by one shared thread (``ProcessReaper``)
/// through pidfds and epoll: per command, one wake-up of that thread per event and one hop back.
/// ``SubprocessCommandRunner`` is the same contract on swift-subprocess, kept to measure against.
///
/// A non-zero exit is a result, not an error: ``run(_:)`` never throws.
public struct CommandRunner: CommandExecutor {
    /// How much of the end of a command's output to keep in its outcome.
    public static let tailBytes = 4096
    public static let tailLines = 20

    public init() {}

    public func stopLeftovers(marked mark: String, grace: Duration) async -> [String] {
        await StrayProcesses.stop(marked: mark, grace: grace)
    }

    public func releaseCopyServices(marked mark: String) async -> [String] {
        await CopyServices.release(marked: mark)
    }

    public func run(_ command: ShellCommand) async -> ProcessOutcome {
        if Task.isCancelled {
            return ProcessOutcome(termination: .couldNotStart("stopped before it started"), stopped: true)
        }
        // A C string ends at NUL: such a command would run cut short. It does not run at all.
        if command.script.utf8.contains(0) || command.environment.contains(where: { $0.key.utf8.contains(0) || $0.value.utf8.contains(0) }) {
            return ProcessOutcome(termination: .couldNotStart("its command or environment contains a NUL character"))
        }
        // Standard output and standard error share one pipe to the log, so that the log keeps their
        // order exactly as the command wrote them (as a terminal shows them); the fingerprint's
        // standard output goes to its capture file instead.
        let capture: FileDescriptor?
        do {
            capture = try command.openCaptureFile()
        } catch {
            return ProcessOutcome(termination: .couldNotStart(error.description))
        }
        defer { try? capture?.close() }
        let output = CommandOutput(path: command.logFile, live: command.liveOutput, limit: command.logLimit)

        guard let pipe = Pipe.make() else {
            return ProcessOutcome(termination: .couldNotStart("cannot create a pipe: \(String(cString: strerror(errno)))"))
        }
        var pid: pid_t = 0
        var pidfd: Int32 = -1
        // Into the run's cgroup before it runs anything: what it starts stays there, whatever it does.
        let cgroup = command.cgroupToken.flatMap(RunCgroup.forRun(token:))
        var joined: Int32 = 0
        let error = Self.spawn(command, stdout: capture?.rawValue ?? pipe.write, stderr: pipe.write, cgroup: cgroup,
                               pid: &pid, pidfd: &pidfd, joined: &joined)
        if error == 0, let cgroup, joined == 0 { cgroup.couldNotJoin() }
        // The child has its own copy; the parent keeps only the read end.
        close(pipe.write)
        if error != 0 {
            close(pipe.read)
            return ProcessOutcome(termination: .couldNotStart(Self.explain(error, command: command)))
        }
        let pipes: [Int32: CommandOutput.Stream] = [pipe.read: capture == nil ? .standardOutput : .standardError]
        let reaper = ProcessReaper.shared
        let id = reaper.newID()
        // A stop hook runs in a task of its own (the step's may be cancelled), then the group is stopped.
        let hook = Locked<Task<Void, Never>?>(nil)
        let beforeStop = command.onStop.map { onStop in
            { @Sendable (cause: ShellCommand.StopCause) in
                hook.withLock { running in
                    running = Task {
                        await onStop(cause)
                        reaper.terminate(id)
                    }
                }
            }
        }
        let ending = await withTaskCancellationHandler {
            await reaper.watch(id: id, pid: pid, pidfd: pidfd, pipes: pipes, output: output, timeout: command.timeout,
                               killGrace: command.killGrace, beforeStop: beforeStop)
        } onCancel: {
            reaper.stop(id)
        }
        // The command may have ended on its own while its hook ran: the hook still finishes first.
        await hook.value?.value
        // Whatever the command left behind in its group (`sleep 100 &`) does not outlive it (but for
        // the copy's own commands, ended on their own). (The end-of-run search for strays passes
        // over what is still dying of this SIGKILL.)
        if !command.keepsWhatItLeaves || ending.timedOut || ending.stopped || ending.lost != nil { kill(-pid, SIGKILL) }
        let (tail, logFile) = output.finish()
        if let lost = ending.lost {
            // It ran, and its group is now killed, but how it ended is unknown: a failure.
            return ProcessOutcome(termination: .signaled(SIGKILL), outputTail: tail + (tail.isEmpty ? "" : "\n") + lost, logFile: logFile)
        }
        return ProcessOutcome(
            termination: ending.signaled ? .signaled(ending.code) : .exited(ending.code),
            timedOut: ending.timedOut, stopped: ending.stopped, outputTail: tail, logFile: logFile)
    }

    /// The harness's own environment as `NAME=value` entries, read once: commands inherit it.
    /// (But a history named by URL: it may carry the shared database's password, which no step needs.)
    private static let inherited: [(name: String, entry: String)] = ProcessInfo.processInfo.environment
        .filter { $0.key != "REHEARSE_HISTORY" || !($0.value.contains("://") || $0.value.lowercased().contains("password")) }
        .map { ($0.key, "\($0.key)=\($0.value)") }

    /// `vfork` and `exec` of `/bin/sh -c SCRIPT` with the harness's environment plus the command's
    /// (the command's win).
    private static func spawn(
        _ command: ShellCommand, stdout: Int32, stderr: Int32, cgroup: RunCgroup?, pid: inout pid_t, pidfd: inout Int32, joined: inout Int32
    ) -> Int32 {
        func copy(_ text: String) -> UnsafeMutablePointer<CChar>? { text.withCString { strdup($0) } }
        let arguments = ["/bin/sh", "-c", command.script].map(copy) + [nil]
        var variables: [UnsafeMutablePointer<CChar>?] = []
        variables.reserveCapacity(Self.inherited.count + command.environment.count + 1)
        for (name, entry) in Self.inherited where command.environment[name] == nil { variables.append(copy(entry)) }
        for (name, value) in command.environment { variables.append(copy(name + "=" + value)) }
        variables.append(nil)
        defer {
            for pointer in arguments { free(pointer) }
            for pointer in variables { free(pointer) }
        }
        return rehearse_spawn("/bin/sh", arguments, variables, command.workingDirectory, stdout, stderr, cgroup?.directory ?? -1, cgroup?.procs ?? -1,
                              &pid, &pidfd, &joined)
    }

    private static func explain(_ error: Int32, command: ShellCommand) -> String {
        if error == ENOENT || error == ENOTDIR {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: command.workingDirectory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                return "its folder \(command.workingDirectory) does not exist or cannot be entered"
            }
            return "/bin/sh was not found"
        }
        if error == EACCES { return "its folder \(command.workingDirectory) cannot be entered, or /bin/sh cannot be run" }
        return String(cString: strerror(error))
    }

    /// The last lines of some output, as text safe to print: invalid UTF-8 replaced, control
    /// characters other than tab dropped.
    static func tailText(_ bytes: [UInt8]) -> String {
        let cut = bytes.count > tailBytes
        var lines = printable(bytes.suffix(tailBytes)).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.isEmpty == true { lines.removeLast() }
        // The first line is partial when the output was cut: dropped, unless it is all there is.
        if cut, lines.count > 1 { lines.removeFirst() } else if cut, let only = lines.first { lines = ["…" + only] }
        return lines.suffix(tailLines).joined(separator: "\n")
    }

    /// Output as text safe for a terminal, a log view or a report (``PrintableText``).
    static func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        PrintableText.of(bytes)
    }
}

/// A pipe whose read end is non-blocking (for the reaper) and whose write end is the child's.
private struct Pipe {
    var read: Int32
    var write: Int32

    static func make() -> Pipe? {
        var fds: [Int32] = [-1, -1]
        guard rehearse_pipe(&fds, 0) == 0 else { return nil }
        return Pipe(read: fds[0], write: fds[1])
    }
}

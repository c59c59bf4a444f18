public import RehearseCore
import SystemPackage

/// One command to run: `/bin/sh -c SCRIPT` in a folder, with extra environment, a timeout and a
/// log file for its combined output.
public struct ShellCommand: Sendable {
    public var activity: Activity
    public var script: String
    public var workingDirectory: String
    /// Added to the harness's own environment (these win).
    public var environment: [String: String]
    public var timeout: Duration
    /// Between SIGTERM and SIGKILL when the command's process group is stopped.
    public var killGrace: Duration
    public var logFile: String
    /// A file that receives standard output alone (the fingerprint's value); stderr still goes to the log.
    public var captureFile: String?
    /// When set, every line of output is also handed here as it arrives (`--verbose`).
    public var liveOutput: (@Sendable (String) -> Void)?
    /// Most bytes of output the log keeps (its first and last halves); nil keeps all of it.
    public var logLimit: Int?
    /// The run token whose cgroup the process joins (``RunCgroup``), when the run stops what its
    /// commands leave running; nil for a live run, whose steps start the go-live itself.
    public var cgroupToken: String?
    /// The step's `stop:` hook: when the command must be stopped (its timeout, the calling task's
    /// cancellation), this runs first and is awaited, and only then is the process group
    /// terminated (SIGTERM, the kill grace, SIGKILL). It bounds its own time.
    public var onStop: (@Sendable (StopCause) async -> Void)?
    /// What it leaves running in its process group when it ends on its own is not killed: the
    /// target's setup and teardown, whose servers (`server &`) belong to the copy. (Stopped on a
    /// timeout or a cancellation, its whole group is still stopped.)
    public var keepsWhatItLeaves = false

    /// Why a command is being stopped.
    public enum StopCause: Sendable, Hashable {
        /// It ran past its timeout.
        case timeout
        /// The calling task was cancelled (the rollback trigger, an interruption).
        case cancelled
    }

    public init(
        activity: Activity, script: String, workingDirectory: String, environment: [String: String],
        timeout: Duration, killGrace: Duration = .seconds(5), logFile: String, captureFile: String? = nil,
        liveOutput: (@Sendable (String) -> Void)? = nil, logLimit: Int? = nil
    ) {
        self.logLimit = logLimit
        self.activity = activity
        self.script = script
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.timeout = timeout
        self.killGrace = killGrace
        self.logFile = logFile
        self.captureFile = captureFile
        self.liveOutput = liveOutput
    }
}

extension ShellCommand {
    /// Why the capture file cannot be written.
    struct CaptureFileError: Error, CustomStringConvertible {
        var description: String
    }

    /// The fingerprint's capture file, opened for the command's standard output (owner-only,
    /// truncated, close-on-exec); nil when the command has none.
    func openCaptureFile() throws(CaptureFileError) -> FileDescriptor? {
        guard let captureFile else { return nil }
        do {
            return try FileDescriptor.open(
                FilePath(captureFile), .writeOnly, options: [.create, .truncate, .noFollow, .closeOnExec], permissions: [.ownerReadWrite])
        } catch {
            throw CaptureFileError(description: "cannot write \(captureFile): \(error)")
        }
    }
}

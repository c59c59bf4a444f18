public import Foundation
public import RehearseCore

/// What runs a rehearsal's commands. ``CommandRunner`` runs them as real processes; tests use a
/// scripted fake that returns chosen outcomes at chosen times.
public protocol CommandExecutor: Sendable {
    /// Runs the command to its end, its timeout, or the calling task's cancellation (then the
    /// outcome says `stopped`). A non-zero exit is a result, never an error.
    func run(_ command: ShellCommand) async -> ProcessOutcome

    /// Stops what a run's commands left running outside their own process groups (daemons),
    /// found by the run's mark, and returns their command lines.
    func stopLeftovers(marked mark: String, grace: Duration) async -> [String]

    /// Finds what the target's setup left running (the copy's servers), found by the copy's
    /// mark, and leaves it running, out of the cgroup it was started in; returns their command lines.
    func releaseCopyServices(marked mark: String) async -> [String]
}

/// The executor rehearsals use unless told otherwise: ``CommandRunner``, or
/// ``SubprocessCommandRunner`` when `REHEARSE_EXECUTOR=subprocess` (to measure one against the other).
public enum StandardExecutor {
    public static func make(environment: [String: String] = ProcessInfo.processInfo.environment) -> any CommandExecutor {
        environment["REHEARSE_EXECUTOR"] == "subprocess" ? SubprocessCommandRunner() : CommandRunner()
    }
}

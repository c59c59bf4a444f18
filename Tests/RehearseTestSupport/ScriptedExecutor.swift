public import Foundation
public import RehearseCore
public import RehearseRunner
import Synchronization

/// A ``CommandExecutor`` that runs nothing: each command does what the test's script says (pass
/// or fail after a chosen time on a ``ManualClock``, time out, hang until stopped, deliver a
/// signal), and the executor records what ran, in which order, how many at once, and what was
/// stopped. Commands are named `PHASE NAME`: `forward migrate`, `rollback migrate`, `smoke v2`,
/// `setup copy`, `fingerprint-before fingerprint`.
public final class ScriptedExecutor: CommandExecutor {
    public indirect enum Behaviour: Sendable {
        /// Exit 0 after this long.
        case pass(after: Duration)
        /// Exit with this status after this long.
        case fail(exit: Int32, after: Duration)
        /// Run past the timeout: the executor reports it timed out after this long.
        case timeOut(after: Duration)
        /// Run until the calling task is cancelled, then report `stopped` (the executor's kill).
        case hang
        /// Wait until this many commands run at once, then pass: proof that they overlapped.
        case waitForPeers(Int)
        /// Print this on standard output (the fingerprint's value), then pass after this long.
        case print(String, after: Duration)
        /// Deliver a signal to the run's control as the command starts, then behave as `then`.
        case signal(Int32, then: Behaviour)
        /// Never start (its folder is gone, say).
        case cannotStart
    }

    private struct State {
        var started: [String] = []
        var finished: [String] = []
        var stopped: [String] = []
        var running = 0
        var peak = 0
        var environments: [String: [String: String]] = [:]
        var marks: [String] = []
        var copyMarks: [String] = []
        var cgroupTokens: [String: String] = [:]
    }

    private let clock: ManualClock
    private let script: [String: Behaviour]
    /// What a command does from its second run on (a round trip, `--twice`), when it differs.
    private let onRepeat: [String: Behaviour]
    private let fallback: Behaviour
    private let control: RunControl?
    private let state = Mutex(State())
    /// Returned by ``stopLeftovers(marked:grace:)``, as if steps had left daemons running.
    public let leftovers: [String]
    /// Returned by ``releaseCopyServices(marked:)``, as if the setup had started servers.
    public let copyServices: [String]

    public init(clock: ManualClock, script: [String: Behaviour] = [:], otherwise fallback: Behaviour = .pass(after: .milliseconds(10)),
                control: RunControl? = nil, leftovers: [String] = [], onRepeat: [String: Behaviour] = [:],
                copyServices: [String] = []) {
        self.copyServices = copyServices
        self.clock = clock
        self.script = script
        self.onRepeat = onRepeat
        self.fallback = fallback
        self.control = control
        self.leftovers = leftovers
    }

    /// Commands in the order they started.
    public var started: [String] { state.withLock { $0.started } }
    /// Commands stopped by cancellation (the trigger, a signal).
    public var stopped: [String] { state.withLock { $0.stopped } }
    /// The most commands that ran at once.
    public var peak: Int { state.withLock { $0.peak } }
    /// The environment each command was given.
    public func environment(of name: String) -> [String: String]? { state.withLock { $0.environments[name] } }
    /// The cgroup a command was given (by its token).
    public func cgroupToken(of name: String) -> String? { state.withLock { $0.cgroupTokens[name] } }

    public func run(_ command: ShellCommand) async -> ProcessOutcome {
        let name = "\(command.activity.kind.rawValue) \(command.activity.name)"
        let again = state.withLock { state -> Bool in
            let again = state.started.contains(name)
            state.started.append(name)
            state.running += 1
            state.peak = max(state.peak, state.running)
            state.environments[name] = command.environment
            state.cgroupTokens[name] = command.cgroupToken
            return again
        }
        let behaviour = (again ? onRepeat[name] : nil) ?? script[name] ?? fallback
        let outcome = await perform(behaviour, command: command, name: name)
        state.withLock { state in
            state.running -= 1
            state.finished.append(name)
        }
        return outcome
    }

    private func perform(_ behaviour: Behaviour, command: ShellCommand, name: String) async -> ProcessOutcome {
        switch behaviour {
        case .pass(let after):
            clock.advance(by: after)
            return ProcessOutcome(termination: .exited(0))
        case .fail(let exit, let after):
            clock.advance(by: after)
            return ProcessOutcome(termination: .exited(exit), outputTail: "\(name) failed")
        case .timeOut(let after):
            clock.advance(by: after)
            await stopHook(command, .timeout)
            return ProcessOutcome(termination: .signaled(SIGTERM), timedOut: true)
        case .hang:
            // Task.sleep ends at once when the task is cancelled: the executor's kill.
            try? await Task.sleep(for: .seconds(3600))
            await stopHook(command, .cancelled)
            state.withLock { $0.stopped.append(name) }
            return ProcessOutcome(termination: .signaled(SIGTERM), stopped: true)
        case .waitForPeers(let count):
            let deadline = ContinuousClock.now + .seconds(10)
            while state.withLock({ $0.running }) < count, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
            }
            return ProcessOutcome(termination: .exited(0))
        case .print(let text, let after):
            if let file = command.captureFile {
                FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
            }
            clock.advance(by: after)
            return ProcessOutcome(termination: .exited(0))
        case .cannotStart:
            return ProcessOutcome(termination: .couldNotStart("its folder does not exist"))
        case .signal(let number, let then):
            control?.receive(signal: number)
            return await perform(then, command: command, name: name)
        }
    }

    /// The command's stop hook, as ``CommandRunner`` runs it: in a task of its own (the command's
    /// may be cancelled), before the command counts as stopped.
    private func stopHook(_ command: ShellCommand, _ cause: ShellCommand.StopCause) async {
        guard let onStop = command.onStop else { return }
        await Task { await onStop(cause) }.value
    }

    public func stopLeftovers(marked mark: String, grace: Duration) async -> [String] {
        state.withLock { $0.marks.append(mark) }
        return leftovers
    }

    public func releaseCopyServices(marked mark: String) async -> [String] {
        state.withLock { $0.copyMarks.append(mark) }
        return copyServices
    }

    /// The marks stray processes were looked for by, and the copy's services.
    public var strayMarks: [String] { state.withLock { $0.marks } }
    public var copyMarks: [String] { state.withLock { $0.copyMarks } }
}

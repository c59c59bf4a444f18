/// One thing a rehearsal runs: a step in one direction, a check, the fingerprint, or the target's
/// setup or teardown. It names a row of the run's record and of the history's journal.
public struct Activity: Sendable, Hashable, CustomStringConvertible {
    /// The moments of a rehearsal, in the order they happen.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case setup
        case preflight
        case fingerprintBefore = "fingerprint-before"
        case forward
        case smoke
        case rollback
        case restored
        case fingerprintAfter = "fingerprint-after"
        case teardown

        /// The `REHEARSE_PHASE` a command of this kind sees.
        public var environmentPhase: String {
            switch self {
            case .forward: "forward"
            case .rollback: "rollback"
            case .setup: "setup"
            case .teardown: "teardown"
            case .preflight, .smoke, .restored, .fingerprintBefore, .fingerprintAfter: "check"
            }
        }

        public var isCheck: Bool { self == .preflight || self == .smoke || self == .restored }
        public var isStep: Bool { self == .forward || self == .rollback }
    }

    public var kind: Kind
    /// The step id, the check's name, the target's name (setup, teardown) or `fingerprint`.
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// `forward deploy-green`, `smoke "new checkout"`.
    public var description: String {
        kind.isCheck ? "\(kind.rawValue) check '\(name)'" : "\(kind.rawValue) \(name)"
    }
}

/// How one command ended, as measured by the runner.
public struct ProcessOutcome: Sendable, Hashable {
    public enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
        /// The command never ran: its folder is gone, the shell could not be started...
        case couldNotStart(String)
    }

    public var termination: Termination
    /// The runner stopped it because it ran past its timeout.
    public var timedOut: Bool
    /// The runner stopped it because the rehearsal was cut short (rollback trigger, interruption).
    public var stopped: Bool
    /// When it started, measured from the start of the run.
    public var startOffset: Duration
    public var duration: Duration
    /// The last lines of its combined output.
    public var outputTail: String
    /// The file its whole output went to, if any.
    public var logFile: String?

    public init(
        termination: Termination, timedOut: Bool = false, stopped: Bool = false, startOffset: Duration,
        duration: Duration, outputTail: String = "", logFile: String? = nil
    ) {
        self.termination = termination
        self.timedOut = timedOut
        self.stopped = stopped
        self.startOffset = startOffset
        self.duration = duration
        self.outputTail = outputTail
        self.logFile = logFile
    }

    /// Exit status 0, within its timeout, not stopped.
    public var succeeded: Bool { termination == .exited(0) && !timedOut && !stopped }

    public var endOffset: Duration { startOffset + duration }

    /// `exit 0`, `exit 3`, `timed out after 2.0s`, `killed by signal 9`, `could not start: ...`.
    public var summary: String {
        if timedOut { return "timed out" }
        if stopped { return "stopped" }
        switch termination {
        case .exited(let code): return "exit \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        case .couldNotStart(let reason): return "could not start: \(reason)"
        }
    }
}

/// One activity of a run and what became of it.
public struct Execution: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case passed
        case failed
        case timedOut = "timed-out"
        /// Cut short by the rollback trigger or an interruption.
        case stopped
        /// Not run: `--fail-at` named it, and it counts as failed at the moment it would have started.
        case injectedFailure = "injected-failure"
        /// A rollback not run because a rollback that must come before it failed.
        case blocked
        /// A rollback not run because the rollback was abandoned (second interruption).
        case abandoned
        /// Nothing to run: a step with `rollback: none`.
        case nothingToRun = "nothing-to-run"
    }

    public var activity: Activity
    public var status: Status
    /// The command's measured outcome; nil when it did not run.
    public var outcome: ProcessOutcome?

    public init(_ activity: Activity, status: Status, outcome: ProcessOutcome? = nil) {
        self.activity = activity
        self.status = status
        self.outcome = outcome
    }

    public var isFailure: Bool { status == .failed || status == .timedOut || status == .injectedFailure }
}

extension Execution.Status {
    /// The status a finished command earns from its outcome.
    public init(_ outcome: ProcessOutcome) {
        if outcome.timedOut { self = .timedOut } else if outcome.stopped { self = .stopped } else if outcome.succeeded { self = .passed } else { self = .failed }
    }
}

/// One thing a rehearsal runs: a step in one direction, a check, the fingerprint, or the target's
/// setup or teardown. It names a row of the run's record and of the history's journal.
public struct Activity: Sendable, Hashable, CustomStringConvertible {
    /// The moments of a rehearsal, in the order they happen. The raw values are the stable codes
    /// the history and the JSON use.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case setup
        case preflight
        case fingerprintBefore = "fingerprint-before"
        case forward
        case smoke
        /// A write the plan's `window` makes on the new version, before the trigger.
        case windowWrite = "window-write"
        case rollback
        case restored
        /// A check that the window's writes survived the rollback.
        case kept
        case fingerprintAfter = "fingerprint-after"
        case teardown
        /// A step's `stop:` hook, run when its command was stopped (named after the step).
        case stop

        /// The `REHEARSE_PHASE` a command of this kind sees.
        public var environmentPhase: String {
            switch self {
            case .forward: "forward"
            case .rollback: "rollback"
            case .setup: "setup"
            case .teardown: "teardown"
            // (Never seen: a stop hook is given the REHEARSE_PHASE of the command it stops.)
            case .stop: "stop"
            case .windowWrite: "window"
            case .preflight, .smoke, .restored, .kept, .fingerprintBefore, .fingerprintAfter: "check"
            }
        }

        public var isCheck: Bool { self == .preflight || self == .smoke || self == .restored || self == .kept }
        public var isStep: Bool { self == .forward || self == .rollback }
        public var isFingerprint: Bool { self == .fingerprintBefore || self == .fingerprintAfter }

        /// The word people read for this phase: both fingerprints are `fingerprint`.
        public var label: String { isFingerprint ? "fingerprint" : self == .stop ? "stop hook" : rawValue }
    }

    public var kind: Kind
    /// The step id, the check's name, the target's name (setup, teardown) or `fingerprint`.
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// `forward deploy-green`, `smoke check 'new checkout'`.
    public var description: String {
        kind.isCheck ? "\(kind.rawValue) check '\(name)'" : kind == .stop ? "stop hook of \(name)" : "\(kind.rawValue) \(name)"
    }
}

/// What became of one activity. The raw values are the stable codes of the history and the JSON.
public enum ActivityStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Started and not finished yet.
    case running
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
    /// The harness died while it ran: it may or may not have taken effect.
    case inFlight = "in-flight"
    /// A rollback the operator said had completed (`recover --assume-done STEP`): it was in flight
    /// when a harness died, its effect was done, and running it again fails.
    case assumedDone = "assumed-done"

    /// Passed, or had nothing to do (or the operator said it was done).
    public var isSuccess: Bool { self == .passed || self == .nothingToRun || self == .assumedDone }

    /// The status a finished command earns from its outcome.
    public init(_ outcome: ProcessOutcome) {
        if outcome.timedOut {
            self = .timedOut
        } else if outcome.stopped {
            self = .stopped
        } else if outcome.succeeded {
            self = .passed
        } else {
            self = .failed
        }
    }
}

/// How one command ended, as the command executor saw it. Its timing is the caller's: the run
/// stamps start and duration from its own clock.
public struct ProcessOutcome: Sendable, Hashable {
    public enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
        /// The command never ran: its folder is gone, the shell could not be started...
        case couldNotStart(String)
    }

    public var termination: Termination
    /// The executor stopped it because it ran past its timeout.
    public var timedOut: Bool
    /// The executor stopped it because the calling task was cancelled (rollback trigger, interruption).
    public var stopped: Bool
    /// The last lines of its combined output.
    public var outputTail: String
    /// The file its whole output went to, if any.
    public var logFile: String?

    public init(termination: Termination, timedOut: Bool = false, stopped: Bool = false, outputTail: String = "", logFile: String? = nil) {
        self.termination = termination
        self.timedOut = timedOut
        self.stopped = stopped
        self.outputTail = outputTail
        self.logFile = logFile
    }

    /// Exit status 0, within its timeout, not stopped.
    public var succeeded: Bool { termination == .exited(0) && !timedOut && !stopped }
}

/// One activity of a run and what became of it: the row the journal keeps, the line a report shows.
public struct ActivityRecord: Sendable, Hashable {
    public var activity: Activity
    public var status: ActivityStatus
    /// When it started, from the start of the run; nil when it never ran.
    public var startOffset: Duration?
    public var duration: Duration?
    /// How its process ended; nil when it never ran (or the harness died while it ran).
    public var termination: ProcessOutcome.Termination?
    public var timedOut: Bool
    public var outputTail: String?
    public var logFile: String?

    public init(
        _ activity: Activity, status: ActivityStatus, startOffset: Duration? = nil, duration: Duration? = nil,
        termination: ProcessOutcome.Termination? = nil, timedOut: Bool = false, outputTail: String? = nil, logFile: String? = nil
    ) {
        self.activity = activity
        self.status = status
        self.startOffset = startOffset
        self.duration = duration
        self.termination = termination
        self.timedOut = timedOut
        self.outputTail = outputTail
        self.logFile = logFile
    }

    /// A command that ran: its status from its outcome, its times from the run's clock.
    public init(_ activity: Activity, outcome: ProcessOutcome, startOffset: Duration, duration: Duration) {
        self.init(activity, status: ActivityStatus(outcome), startOffset: startOffset, duration: duration,
                  termination: outcome.termination, timedOut: outcome.timedOut,
                  outputTail: outcome.outputTail, logFile: outcome.logFile)
    }

    public var kind: Activity.Kind { activity.kind }
    public var name: String { activity.name }
    public var endOffset: Duration? { startOffset.map { $0 + (duration ?? .zero) } }

    /// True when its process ran (whatever its result); false when it never started (could not
    /// start, or was stopped before it was spawned).
    public var ran: Bool {
        switch termination {
        case .exited, .signaled: true
        case .couldNotStart, nil: false
        }
    }

    public var exitStatus: Int32? {
        if case .exited(let code) = termination { return code }
        return nil
    }

    public var signal: Int32? {
        if case .signaled(let number) = termination { return number }
        return nil
    }

    /// Why it could not start, when it could not.
    public var startError: String? {
        if case .couldNotStart(let reason) = termination { return reason }
        return nil
    }

    /// `exit 3`, `timed out`, `stopped`, `killed by signal 9`, `could not start: ...`, or the status.
    public var summary: String {
        if timedOut || status == .timedOut { return "timed out" }
        if status == .stopped { return "stopped" }
        switch termination {
        case .exited(let code): return "exit \(code)"
        case .signaled(let signal): return "killed by \(SignalName.of(signal))"
        case .couldNotStart(let reason): return "could not start: \(reason)"
        case nil: return status.rawValue
        }
    }
}

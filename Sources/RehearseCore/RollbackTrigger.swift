/// Why and when the rollback began.
public struct RollbackTrigger: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// The forward steps and smoke checks passed: the rehearsal's planned rollback.
        case rehearsal
        /// `--fail-at STEP`: the step ran, and was then treated as failed.
        case injected(step: String)
        /// `--cut-before STEP`: the go-live failed just before that step would have started.
        case cutBefore(step: String)
        /// A forward step failed or timed out.
        case stepFailed(step: String)
        /// A smoke check failed after the forward steps.
        case smokeFailed(check: String)
        /// A signal (SIGINT, SIGTERM) reached the harness.
        case interrupted(signal: Int32)
        /// A live run: a smoke check failed while the new version was watched (`go --watch`).
        case watchFailed(check: String)
        /// A live run: the operator rolled it back (`rehearse rollback RUN`).
        case operatorDecision
        /// The history could not be written: nothing more may start unrecorded.
        case historyUnwritable
    }

    public var reason: Reason
    /// The moment of the trigger, measured from the start of the run.
    public var offset: Duration

    public init(reason: Reason, offset: Duration) {
        self.reason = reason
        self.offset = offset
    }

    /// For people: `forward step 'migrate' failed`.
    public var description: String { reason.description }
}

extension RollbackTrigger.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .rehearsal: "planned rollback after the forward steps and smoke checks"
        case .injected(let step): "--fail-at \(step)"
        case .cutBefore(let step): "--cut-before \(step)"
        case .stepFailed(let step): "forward step '\(step)' failed"
        case .smokeFailed(let check): "smoke check '\(check)' failed"
        case .interrupted(let signal): "interrupted by \(SignalName.of(signal))"
        case .watchFailed(let check): "smoke check '\(check)' failed during the watch"
        case .operatorDecision: "the operator's decision (rehearse rollback)"
        case .historyUnwritable: "the history could not be written (nothing may run unrecorded)"
        }
    }

    /// The stable code the history and the JSON keep: `rehearsal`, `injected:STEP`, `cut-before:STEP`,
    /// `step-failed:STEP`, `smoke-failed:CHECK`, `interrupted:SIGNAL-NUMBER`.
    public var code: String {
        switch self {
        case .rehearsal: "rehearsal"
        case .injected(let step): "injected:" + step
        case .cutBefore(let step): "cut-before:" + step
        case .stepFailed(let step): "step-failed:" + step
        case .smokeFailed(let check): "smoke-failed:" + check
        case .interrupted(let signal): "interrupted:\(signal)"
        case .watchFailed(let check): "watch-failed:" + check
        case .operatorDecision: "operator"
        case .historyUnwritable: "history-unwritable"
        }
    }

    /// Reads a ``code`` back; nil for anything else.
    public init?(code: String) {
        if code == "rehearsal" {
            self = .rehearsal
            return
        }
        if code == "operator" {
            self = .operatorDecision
            return
        }
        if code == "history-unwritable" {
            self = .historyUnwritable
            return
        }
        guard let colon = code.firstIndex(of: ":") else { return nil }
        let kind = code[..<colon]
        let subject = String(code[code.index(after: colon)...])
        switch kind {
        case "injected": self = .injected(step: subject)
        case "cut-before": self = .cutBefore(step: subject)
        case "step-failed": self = .stepFailed(step: subject)
        case "smoke-failed": self = .smokeFailed(check: subject)
        case "watch-failed": self = .watchFailed(check: subject)
        case "interrupted":
            guard let signal = Int32(subject) else { return nil }
            self = .interrupted(signal: signal)
        default: return nil
        }
    }

    /// The signal, when a signal was the trigger.
    public var signal: Int32? {
        if case .interrupted(let signal) = self { return signal }
        return nil
    }
}

/// Signal names for people: `SIGINT`, `SIGTERM`, `SIGKILL`, else `signal N`.
public enum SignalName {
    public static func of(_ signal: Int32) -> String {
        switch signal {
        case 1: "SIGHUP"
        case 2: "SIGINT"
        case 3: "SIGQUIT"
        case 6: "SIGABRT"
        case 9: "SIGKILL"
        case 13: "SIGPIPE"
        case 15: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}

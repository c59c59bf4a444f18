/// Why a rehearsal did not pass, one reason per fault: what the verdict lists, what the history
/// keeps (as ``code`` with its subject and detail), and what reports render.
public enum RunReason: Sendable, Hashable {
    /// A forward step failed or timed out; `how` is `exit 3`, `timed out`...
    case stepFailed(step: String, how: String)
    case rollbackFailed(step: String, how: String)
    /// Not run: a rollback that must come before it failed.
    case rollbackBlocked(step: String)
    /// Not run: a second interruption abandoned the rollback, or the harness did (a shared
    /// history's lease ran out, or another harness took its lock).
    case rollbackAbandoned(step: String)
    /// The target's `setup` or `teardown` command failed.
    case targetCommandFailed(phase: Activity.Kind, target: String, how: String)
    /// The fingerprint command itself failed.
    case fingerprintCommandFailed(how: String)
    /// A preflight, smoke or restored check failed.
    case checkFailed(phase: Activity.Kind, check: String, how: String)
    /// The fingerprint after the rollback is not the one before it.
    case fingerprintDiffers
    /// Steps still applied when nothing else explains it.
    case leftApplied(steps: [String])
    /// A reason recorded by an older `rehearse` as text only.
    case text(String)
    /// `--twice`: running the step a second time in a row failed, or left a different fingerprint.
    case notSafeTwice(phase: Activity.Kind, step: String, how: String)
    /// `--round-trip`: after the rollback, going forward again failed, or the second rollback did
    /// not bring the copy back.
    case roundTripFailed(how: String)
    /// The fingerprint printed nothing, or its ignore patterns drop every line: it compares nothing.
    case fingerprintEmpty
    /// The fingerprint did not change when the probe changed the copy: it cannot see a change.
    case fingerprintBlind
    /// After the probe's undo the fingerprint was not back to where it was.
    case probeNotUndone
    /// A signal stopped the run after its rollback trigger (during the rollback, or before any
    /// step ran): the run is interrupted by it, though it was not the trigger.
    case interrupted(signal: Int32)
    /// The history could not be written during the run (a full disk, a damaged database): the
    /// harness started nothing more and rolled back what was applied. A fault of the harness.
    case historyUnwritable(String)
    /// A step's `stop:` hook failed or hung (it was stopped after the kill grace): what the
    /// stopped command asked a server to do may still be running.
    case stopHookFailed(step: String, how: String)
    /// The fingerprint before the forward steps differs from the one run `run` started from, and
    /// that run's rollback did not bring the copy back (its fingerprint differed): this run would
    /// start from a copy the broken rollback changed. Found before anything is applied.
    case copyChangedBefore(run: Int64)
}

extension RunReason: CustomStringConvertible {
    /// One sentence for people.
    public var description: String {
        switch self {
        case .stepFailed(let step, let how): "forward step '\(step)' failed (\(how))"
        case .rollbackFailed(let step, let how): "rollback of '\(step)' failed (\(how))"
        case .rollbackBlocked(let step): "rollback of '\(step)' not run: a rollback it depends on failed"
        case .rollbackAbandoned(let step): "rollback of '\(step)' abandoned (a second interruption, or the harness no longer sure the copy was its own)"
        case .targetCommandFailed(let phase, let target, let how): "\(phase.rawValue) of target '\(target)' failed (\(how))"
        case .fingerprintCommandFailed(let how): "the fingerprint command failed (\(how))"
        case .checkFailed(let phase, let check, let how):
            phase == .windowWrite ? "window write '\(check)' failed (\(how))" : "\(phase.rawValue) check '\(check)' failed (\(how))"
        case .fingerprintDiffers: "the fingerprint after the rollback differs from the one before: the copy was not restored"
        case .leftApplied(let steps): "left applied: \(steps.joined(separator: ", "))"
        case .text(let text): text
        case .notSafeTwice(let phase, let step, let how): "\(phase.rawValue) step '\(step)' is not safe to run twice: \(how)"
        case .roundTripFailed(let how): "round trip: \(how)"
        case .fingerprintEmpty: "the fingerprint compares nothing ('ignore' drops every line it prints): it cannot show that the copy came back"
        case .fingerprintBlind: "the fingerprint cannot see the probe's change: it would not notice a rollback that loses data either"
        case .probeNotUndone: "the probe's undo did not bring the fingerprint back: the copy was changed before the rehearsal"
        case .interrupted(let signal): "interrupted by \(SignalName.of(signal))"
        case .historyUnwritable(let why):
            "the history could not be written (\(why)): nothing more was started, and this run may be recorded only in part"
        case .copyChangedBefore(let run):
            "the copy differs from what run \(run) started from, and run \(run)'s rollback left it changed: restore the copy and rehearse again, or, restored or rebuilt on purpose, rehearse with --copy-restored (nothing was applied)"
        case .stopHookFailed(let step, let how):
            "the stop hook of step '\(step)' failed (\(how)): what the stopped command asked a server to do may still be running"
        }
    }

    /// The stable code of the kind of fault.
    public var code: String {
        switch self {
        case .stepFailed: "step-failed"
        case .rollbackFailed: "rollback-failed"
        case .rollbackBlocked: "rollback-blocked"
        case .rollbackAbandoned: "rollback-abandoned"
        case .targetCommandFailed(let phase, _, _): phase == .setup ? "setup-failed" : "teardown-failed"
        case .fingerprintCommandFailed: "fingerprint-failed"
        case .checkFailed: "check-failed"
        case .fingerprintDiffers: "fingerprint-differs"
        case .leftApplied: "left-applied"
        case .text: "text"
        case .notSafeTwice: "not-safe-twice"
        case .roundTripFailed: "round-trip-failed"
        case .fingerprintEmpty: "fingerprint-empty"
        case .fingerprintBlind: "fingerprint-blind"
        case .probeNotUndone: "probe-not-undone"
        case .interrupted: "interrupted"
        case .historyUnwritable: "history-unwritable"
        case .stopHookFailed: "stop-hook-failed"
        case .copyChangedBefore: "copy-changed-before"
        }
    }

    /// True for the reasons that name a rollback that did not complete.
    public var isAboutARollback: Bool {
        switch self {
        case .rollbackFailed, .rollbackBlocked, .rollbackAbandoned: true
        default: false
        }
    }
}

extension RunReason: Codable {
    private enum Key: String, CodingKey { case code, phase, subject, detail, steps }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(code, forKey: .code)
        switch self {
        case .stepFailed(let step, let how), .rollbackFailed(let step, let how), .stopHookFailed(let step, let how):
            try container.encode(step, forKey: .subject)
            try container.encode(how, forKey: .detail)
        case .rollbackBlocked(let step), .rollbackAbandoned(let step):
            try container.encode(step, forKey: .subject)
        case .targetCommandFailed(let phase, let target, let how), .checkFailed(let phase, let target, let how):
            try container.encode(phase, forKey: .phase)
            try container.encode(target, forKey: .subject)
            try container.encode(how, forKey: .detail)
        case .fingerprintCommandFailed(let how):
            try container.encode(how, forKey: .detail)
        case .fingerprintDiffers, .fingerprintBlind, .probeNotUndone, .fingerprintEmpty:
            break
        case .notSafeTwice(let phase, let step, let how):
            try container.encode(phase, forKey: .phase)
            try container.encode(step, forKey: .subject)
            try container.encode(how, forKey: .detail)
        case .roundTripFailed(let how):
            try container.encode(how, forKey: .detail)
        case .leftApplied(let steps):
            try container.encode(steps, forKey: .steps)
        case .text(let text):
            try container.encode(text, forKey: .detail)
        case .interrupted(let signal):
            try container.encode(String(signal), forKey: .subject)
        case .historyUnwritable(let why):
            try container.encode(why, forKey: .detail)
        case .copyChangedBefore(let run):
            try container.encode(String(run), forKey: .subject)
            // (An older rehearse reads an unknown code as its detail's text.)
            try container.encode(description, forKey: .detail)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let code = try container.decode(String.self, forKey: .code)
        func subject() throws -> String { try container.decode(String.self, forKey: .subject) }
        func detail() throws -> String { try container.decode(String.self, forKey: .detail) }
        switch code {
        case "step-failed": self = .stepFailed(step: try subject(), how: try detail())
        case "rollback-failed": self = .rollbackFailed(step: try subject(), how: try detail())
        case "rollback-blocked": self = .rollbackBlocked(step: try subject())
        case "rollback-abandoned": self = .rollbackAbandoned(step: try subject())
        case "setup-failed", "teardown-failed":
            self = .targetCommandFailed(phase: code == "setup-failed" ? .setup : .teardown, target: try subject(), how: try detail())
        case "fingerprint-failed": self = .fingerprintCommandFailed(how: try detail())
        case "check-failed":
            self = .checkFailed(phase: try container.decode(Activity.Kind.self, forKey: .phase), check: try subject(), how: try detail())
        case "fingerprint-differs": self = .fingerprintDiffers
        case "fingerprint-blind": self = .fingerprintBlind
        case "fingerprint-empty": self = .fingerprintEmpty
        case "not-safe-twice":
            self = .notSafeTwice(phase: try container.decode(Activity.Kind.self, forKey: .phase), step: try subject(), how: try detail())
        case "round-trip-failed": self = .roundTripFailed(how: try detail())
        case "probe-not-undone": self = .probeNotUndone
        case "left-applied": self = .leftApplied(steps: try container.decode([String].self, forKey: .steps))
        case "history-unwritable": self = .historyUnwritable(try detail())
        case "stop-hook-failed": self = .stopHookFailed(step: try subject(), how: try detail())
        case "copy-changed-before":
            guard let run = Int64(try subject()) else { self = .text((try? detail()) ?? code); return }
            self = .copyChangedBefore(run: run)
        case "interrupted":
            guard let signal = Int32(try subject()) else { self = .text("interrupted"); return }
            self = .interrupted(signal: signal)
        default: self = .text((try? detail()) ?? code)
        }
    }
}

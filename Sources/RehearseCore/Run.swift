public import Foundation

/// How a run ended, or that it has not. The raw values are the stable codes of the history and the JSON.
public enum RunStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case running
    /// Rollback within budget, restored checks passed, fingerprint matched.
    case passed
    /// Everything passed, but the rollback took longer than its budget: the CI gate.
    case overBudget = "over-budget"
    /// A step, a check, the fingerprint, setup or teardown failed.
    case failed
    /// A signal stopped the rehearsal (after the rollback it triggered).
    case interrupted
    /// The harness died while the run was `running` (killed, machine rebooted).
    case abandoned
    /// A live go-live (`rehearse go`): the forward steps up to the point of no return are applied
    /// and the smoke checks (and the watch) passed. The new version is live.
    case applied
    /// A live go-live rolled back completely, within its budget, with the restored checks passing.
    /// Not a success: the go-live did not happen.
    case rolledBack = "rolled-back"
    /// A live go-live past its point of no return (`rehearse go --finish`): the irreversible steps ran.
    case completed

    /// How bad an outcome is, for "the worst outcome sets the exit code".
    public var severity: Int {
        switch self {
        case .passed, .applied, .completed: 0
        case .overBudget: 1
        case .failed, .running, .abandoned, .rolledBack: 2
        case .interrupted: 3
        }
    }
}

/// What a run is: a rehearsal on a copy, or the go-live itself (`rehearse go`). The raw values are
/// the stable codes of the history and the JSON.
public enum RunKind: String, Sendable, Hashable, CaseIterable, Codable {
    case rehearsal
    case live
}

/// The operator's approval of a live run: which target, who, from where, when.
public struct Approval: Sendable, Hashable, Codable {
    public var target: String
    public var user: String
    public var host: String
    public var at: Date

    public init(target: String, user: String, host: String, at: Date) {
        self.target = target
        self.user = user
        self.host = host
        self.at = at
    }
}

/// Who ran a rehearsal, where, and with what: kept with the run for the record.
public struct RunProvenance: Sendable, Hashable {
    public var host: String
    public var user: String
    public var pid: Int32
    public var toolVersion: String
    public var gitCommit: String?

    public init(host: String, user: String, pid: Int32, toolVersion: String, gitCommit: String? = nil) {
        self.host = host
        self.user = user
        self.pid = pid
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
    }
}

/// One rehearsal of one plan against one target: the same value whether a rehearsal has just
/// returned it or the history has read it back.
///
/// While the run goes on (and in a history whose harness died) it is incomplete: `status` is
/// `running` or `abandoned`, and only the activities that started are there.
public struct Run: Sendable, Hashable {
    /// The run's number in its history (what users type), or 0 for a run that was never recorded.
    public var id: Int64
    public var planName: String
    public var planFile: String
    /// The plan's exact text, and `sha256:` of it.
    public var planText: String
    public var planHash: String
    public var strategy: String
    public var target: String
    public var provenance: RunProvenance
    /// `--fail-at` or `--cut-before`, when given.
    public var cut: Cut?
    /// How many forward steps a full rehearsal of the plan runs (those before the point of no
    /// return), when known: "3 of 10 steps applied".
    public var stepCount: Int?
    /// The every-cut group the run belongs to, if it is one of its cuts.
    public var group: RunGroup?
    /// The copy the run had to itself (`REHEARSE_COPY`, from 1), when it ran on one of several;
    /// `recover` rolls back on the same copy.
    public var copy: Int?
    /// How it was rehearsed beyond the plain way: `round-trip`, `twice`.
    public var modes: [String] = []
    /// `sha256:` of each of the plan's inputs, by path relative to the plan's folder: what the
    /// content hash covers besides the plan's text.
    public var inputHashes: [String: String]
    public var jobs: Int
    public var startedAt: Date
    public var endedAt: Date?
    public var status: RunStatus
    public var budget: Duration
    /// From the first forward step's start to the last forward step's end.
    public var forward: Duration?
    /// From the trigger to the end of the last rollback step and restored check.
    public var rollback: Duration?
    public var total: Duration?
    public var trigger: RollbackTrigger?
    /// The fingerprints as kept: texts (whole, or their first lines), sizes and digests.
    public var fingerprints = RunFingerprints()
    /// The fingerprint's text before the forward steps (setting it keeps it as a whole output).
    public var fingerprintBefore: String? {
        get { fingerprints.before?.text }
        set { fingerprints.before = newValue.map(FingerprintOutput.init) }
    }
    /// The fingerprint's text after the rollback.
    public var fingerprintAfter: String? {
        get { fingerprints.after?.text }
        set { fingerprints.after = newValue.map(FingerprintOutput.init) }
    }
    /// With a `window`: the text of the control copy's fingerprint (the old version, never
    /// deployed, with the window's writes), which the state after the rollback must equal.
    public var fingerprintControl: String? {
        get { fingerprints.control?.text }
        set { fingerprints.control = newValue.map(FingerprintOutput.init) }
    }
    public var reasons: [RunReason]
    /// Applied steps whose rollback did not complete: the copy is not back where it was.
    public var leftApplied: [String]
    /// Processes a step left running (daemons), stopped by the harness at the end of the run.
    public var strayProcesses: [String]
    /// Processes the target's setup started that were still running at the end of the run: they
    /// belong to the copy (its database server, its proxy), and are never stopped as strays.
    public var copyServices: [String] = []
    /// The run's globally unique id: its number (``id``) is its history's own, this is the same
    /// in every history it is merged into (`history import`).
    public var uid: String?
    /// Every activity in the order it started (rollbacks that never ran come last).
    public var activities: [ActivityRecord]
    /// The token every command of the run carries as `REHEARSE_RUN_TOKEN`.
    public var processMark: String?
    /// A rehearsal, or the go-live itself.
    public var kind: RunKind = .rehearsal
    /// A live run: the operator's approval (`--approve`), recorded before anything ran.
    public var approval: Approval?
    /// A live run: what the gate's GO rested on (`run 12`, `every-cut group 3f2a…`).
    public var evidence: String?
    /// A live run: the rehearsal run the gate's GO rested on (a group's worst run).
    public var evidenceRun: Int64?
    /// Where its commands' logs (and, when the fingerprints differ, both fingerprints and their
    /// diff) are.
    public var logsFolder: String?

    public init(
        id: Int64, planName: String, planFile: String, planText: String, planHash: String, strategy: String,
        target: String, provenance: RunProvenance, cut: Cut? = nil, stepCount: Int? = nil, group: RunGroup? = nil,
        copy: Int? = nil, inputHashes: [String: String] = [:], jobs: Int = 1, startedAt: Date,
        endedAt: Date? = nil, status: RunStatus = .running, budget: Duration, forward: Duration? = nil,
        rollback: Duration? = nil, total: Duration? = nil, trigger: RollbackTrigger? = nil,
        fingerprintBefore: String? = nil, fingerprintAfter: String? = nil, reasons: [RunReason] = [],
        leftApplied: [String] = [], strayProcesses: [String] = [], activities: [ActivityRecord] = [],
        processMark: String? = nil
    ) {
        self.id = id
        self.planName = planName
        self.planFile = planFile
        self.planText = planText
        self.planHash = planHash
        self.strategy = strategy
        self.target = target
        self.provenance = provenance
        self.cut = cut
        self.stepCount = stepCount
        self.group = group
        self.copy = copy
        self.inputHashes = inputHashes
        self.jobs = jobs
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.status = status
        self.budget = budget
        self.forward = forward
        self.rollback = rollback
        self.total = total
        self.trigger = trigger
        fingerprints = RunFingerprints(before: fingerprintBefore.map(FingerprintOutput.init), after: fingerprintAfter.map(FingerprintOutput.init))
        self.reasons = reasons
        self.leftApplied = leftApplied
        self.strayProcesses = strayProcesses
        self.activities = activities
        self.processMark = processMark
        logsFolder = nil
    }

    /// A new, running run of `plan` on `target`: what a journal records before the first command.
    public init(starting plan: Plan, target: String, id: Int64 = 0, planHash: String = "", provenance: RunProvenance,
                cut: Cut? = nil, group: RunGroup? = nil, copy: Int? = nil, inputHashes: [String: String] = [:], jobs: Int = 1,
                startedAt: Date, processMark: String? = nil) {
        self.init(id: id, planName: plan.name, planFile: plan.file, planText: plan.source, planHash: planHash,
                  strategy: plan.strategy.id, target: target, provenance: provenance, cut: cut,
                  stepCount: plan.graph.rehearsable().count, group: group, copy: copy, inputHashes: inputHashes, jobs: jobs,
                  startedAt: Self.recordedTime(startedAt), budget: plan.budget.rollback, processMark: processMark)
    }

    /// A wall-clock time as runs keep it: whole microseconds, so that it survives the history
    /// (integer nanoseconds) and JSON exactly.
    public static func recordedTime(_ date: Date) -> Date {
        recordedTime(microseconds: Int64((date.timeIntervalSince1970 * 1e6).rounded()))
    }

    public static func recordedTime(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1e6)
    }

    /// Whole microseconds since 1970 of a recorded time.
    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1e6).rounded())
    }

    public var host: String { provenance.host }
    public var user: String { provenance.user }
    public var pid: Int32 { provenance.pid }
    public var toolVersion: String { provenance.toolVersion }
    public var gitCommit: String? { provenance.gitCommit }
    public var triggerOffset: Duration? { trigger?.offset }

    /// Rollback time over budget (1.0 is exactly the budget), when a rollback was timed.
    public var budgetShare: Double? {
        rollback.map { $0.seconds / max(budget.seconds, 1e-9) }
    }

    /// True when a rollback passed but used at least ``Verdict/warningShare`` of its budget.
    public var isNearBudget: Bool {
        status == .passed && (budgetShare ?? 0) >= Verdict.warningShare
    }

    /// `--fail-at STEP`, when that was the cut.
    public var failAt: String? { cut?.kind == .failAt ? cut?.step : nil }

    /// A rehearsal of the whole plan: no cut. Only these (and every-cut groups whose cuts all
    /// passed) count as a pass for the gate.
    public var isFull: Bool { cut == nil }

    public var isLive: Bool { kind == .live }

    /// The harness itself failed during the run (its history could not be written): exit 70.
    public var hasHarnessFault: Bool {
        reasons.contains { if case .historyUnwritable = $0 { true } else { false } }
    }

    /// A run part of whose journal could not be written (`unrecorded`: why) stands for nothing
    /// the history has: it gets the reason, and a pass becomes a failure.
    public mutating func claimNoPass(unrecorded: String?) {
        guard let unrecorded, !hasHarnessFault else { return }
        reasons.append(.historyUnwritable(unrecorded))
        if status == .passed { status = .failed }
    }

    /// How many distinct forward steps started (and so may have been applied).
    public var appliedStepCount: Int { Set(startedForwardSteps).count }

    /// "3 of 10 steps applied, cut before migrate-004": what this run rehearsed, honestly counted.
    public var coverage: String {
        var text = "\(appliedStepCount) of \(stepCount.map(String.init) ?? "?") steps applied"
        if let cut { text += ", " + cut.phrase }
        return text
    }

    /// The two fingerprints compared under the plan's settings as recorded with the run (its
    /// `ignore` and `accept`), when both were taken.
    public var fingerprintComparison: FingerprintComparison? {
        // Live data moves on: a live run's fingerprints are a record, never a verdict.
        guard kind == .rehearsal else { return nil }
        guard let before = fingerprints.control ?? fingerprints.before, let after = fingerprints.after else { return nil }
        let settings = PlanParser().parse(planText, file: planFile, defaultName: planName).plan?.fingerprint
        return FingerprintComparison(before: before, after: after, settings: settings)
    }

    /// The window's writes ran on the copy itself (not only on the control, which comes before
    /// the first forward step).
    public var windowWritesRan: Bool {
        guard let first = activities.firstIndex(where: { $0.kind == .forward }) else { return false }
        return activities[first...].contains { $0.kind == .windowWrite && $0.ran }
    }

    /// The fingerprint's probe changed the copy and its undo never completed (the harness died in
    /// between, or the undo failed).
    public var probeLeftApplied: Bool {
        activities.contains { $0.kind == .preflight && $0.name == "fingerprint probe" && $0.ran }
            && !activities.contains { $0.kind == .preflight && $0.name == "fingerprint probe undo" && $0.status == .passed }
    }

    /// The plan as it was recorded with the run (nil when its text no longer parses).
    public var recordedPlan: Plan? {
        PlanParser().parse(planText, file: planFile, defaultName: planName).plan
    }

    /// Whether the run's own teardown completed: the copy its steps changed went with it. (The
    /// run's teardown is named after its target; a window's control copy has its own.)
    public var tookDownItsCopy: Bool {
        activities.contains { $0.kind == .teardown && $0.name == target && $0.status == .passed }
    }

    /// The signal that interrupted the run, if one did.
    public var signal: Int32? {
        if let signal = trigger?.reason.signal { return signal }
        for case .interrupted(let signal) in reasons { return signal }
        return nil
    }

    public func activities(_ kind: Activity.Kind) -> [ActivityRecord] {
        activities.filter { $0.kind == kind }
    }

    /// The rollback steps that took longest, slowest first: what to change when over budget.
    public func slowestRollbacks(_ count: Int = 3) -> [ActivityRecord] {
        activities(.rollback)
            .filter { ($0.duration ?? .zero) > .zero }
            .sorted { ($0.duration ?? .zero) > ($1.duration ?? .zero) }
            .prefix(count).map { $0 }
    }

    /// Applied steps with `rollback: none`: harmless by the plan's own word.
    public var leftAppliedHarmless: [String] {
        activities.filter { $0.kind == .rollback && $0.status == .nothingToRun }.map(\.name)
    }

    /// Forward steps the journal shows were started (and so may be applied, fully or in part): all
    /// but those that never started (could not start, or were stopped before they were spawned).
    /// A step in flight when the harness died counts as started; so does a `--fail-at` cut.
    public var startedForwardSteps: [String] {
        activities.filter(Self.startedForward).map(\.name)
    }

    private static func startedForward(_ activity: ActivityRecord) -> Bool {
        guard activity.kind == .forward else { return false }
        if activity.startError != nil { return false }
        return !(activity.status == .stopped && activity.termination == nil)
    }

    /// Steps whose rollback completed (or that had nothing to undo).
    public var rolledBackSteps: Set<String> {
        Set(activities.filter { $0.kind == .rollback && $0.status.isSuccess }.map(\.name))
    }

    /// What the journal says is applied and not rolled back: what `recover` must undo. Read in
    /// start order, so that a step applied again after its rollback (a round trip, `--twice`)
    /// counts as applied until its next rollback completes.
    public var stillApplied: [String] {
        var applied: [String] = []
        for activity in activities {
            if Self.startedForward(activity) {
                if !applied.contains(activity.name) { applied.append(activity.name) }
            } else if activity.kind == .rollback, activity.status.isSuccess {
                applied.removeAll { $0 == activity.name }
            }
        }
        return applied
    }

    /// Steps still applied whose rollback was in flight when a harness died: it may have taken
    /// effect (running it again may then fail), or not. Only the operator can tell.
    public var uncertainRollbacks: [String] {
        let applied = Set(stillApplied)
        var seen = Set<String>()
        return activities.filter { $0.kind == .rollback && $0.status == .inFlight && applied.contains($0.name) }
            .map(\.name).filter { seen.insert($0).inserted }
    }

    /// ``stillApplied``, knowing which of the plan's steps are atomic: an atomic step that failed on
    /// its own (a non-zero exit) applied nothing, and the rehearsal did not roll it back.
    public func stillApplied(atomic: Set<String>) -> [String] {
        // (With `--twice`, a step whose first run passed is applied, whatever its second did.)
        let passedOnce = Set(activities.filter { $0.kind == .forward && $0.status == .passed }.map(\.name))
        let appliedNothing = Set(activities.filter { activity in
            guard activity.kind == .forward, atomic.contains(activity.name), activity.status == .failed,
                  !passedOnce.contains(activity.name) else { return false }
            if case .exited = activity.termination { return true }
            return false
        }.map(\.name))
        return stillApplied.filter { !appliedNothing.contains($0) }
    }

    /// ``stillApplied(atomic:)`` with the atomic steps of the plan as recorded with the run.
    public var stillAppliedAsRecorded: [String] {
        let plan = PlanParser().parse(planText, file: planFile, defaultName: planName).plan
        return stillApplied(atomic: Set(plan?.steps.filter(\.isAtomic).map(\.id) ?? []))
    }
}

/// Membership of an every-cut group: the rehearsals of one plan from each of its cut points, run
/// together (`rehearse run --every-cut`), and judged together.
public struct RunGroup: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The rehearsals of a plan from each of its cut points (`--every-cut`).
        case everyCut = "every-cut"
        /// The same full rehearsal, several times (`--repeat N`).
        case `repeat`
    }

    /// Shared by every run of the group.
    public var id: String
    public var kind: Kind
    /// How many runs the group has when complete (in this shard).
    public var size: Int
    /// `I/N` when the group is one shard of a CI matrix (`--shard`).
    public var shard: String?

    public init(id: String, size: Int, shard: String? = nil, kind: Kind = .everyCut) {
        self.id = id
        self.kind = kind
        self.size = size
        self.shard = shard
    }
}

/// What happened while a rehearsal ran, in order: what a journal records and a progress display shows.
public enum RunEvent: Sendable {
    /// The run as begun, with its plan (analysed once) and options.
    case runStarted(Run, plan: Plan)
    case activityStarted(Activity, offset: Duration)
    case activityFinished(ActivityRecord)
    case rollbackTriggered(RollbackTrigger)
    /// The fingerprint taken before the forward steps: kept at once, so that `recover` can
    /// verify a run whose harness died.
    case fingerprintTaken(before: FingerprintOutput)
    /// The window's control copy's fingerprint: kept at once too.
    case controlFingerprintTaken(FingerprintOutput)
    case runFinished(Run)
}

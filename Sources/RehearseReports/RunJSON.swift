public import Foundation
public import RehearseCore

/// The JSON form of a run: `run --json`, `report --format json`, `show --json`, and (the summary
/// fields only) `history --json`. Durations are integer nanoseconds (`*_ns`), times ISO 8601 in UTC.
/// Absent values are written as `null`, never left out. Decodable, so that a reader in Swift (and
/// the tests) read it back with the same types.
public struct RunJSON: Codable, Sendable, Hashable {
    public var id: Int64
    public var plan: String
    public var target: String
    public var status: String
    public var startedAt: String
    public var endedAt: String?
    public var rollbackNs: Int64?
    public var budgetNs: Int64?
    /// The every-cut group the run is one cut of, if any.
    public var groupID: String?
    /// `rehearsal` or `live` (a go-live, `rehearse go`).
    public var kind: String = RunKind.rehearsal.rawValue
    /// The rest are in the complete record only (nil in a summary).
    public var details: Details?

    public struct Details: Codable, Sendable, Hashable {
        public var planFile: String
        public var planHash: String
        public var strategy: String
        public var host: String
        public var user: String
        public var pid: Int32
        public var toolVersion: String
        public var gitCommit: String?
        public var failAt: String?
        public var cutBefore: String?
        /// Forward steps of a full rehearsal of the plan.
        public var stepCount: Int?
        public var groupSize: Int?
        public var groupShard: String?
        public var copy: Int?
        /// The plan's inputs' digests, by path.
        public var inputs: [String: String]
        public var trigger: String?
        public var triggerCode: String?
        public var triggerOffsetNs: Int64?
        public var forwardNs: Int64?
        public var reasons: [String]
        public var reasonCodes: [String]
        public var leftApplied: [String]
        public var strayProcesses: [String]
        /// What the target's setup left running (the copy's servers), not stopped.
        public var copyServices: [String] = []
        /// The run's globally unique id (its number is its history's own).
        public var uid: String?
        public var fingerprintBefore: String?
        public var fingerprintAfter: String?
        public var fingerprintControl: String?
        /// What each fingerprint text above is: by `before`, `after`, `control`.
        public var fingerprints: [String: FingerprintJSON]
        public var activities: [ActivityJSON]
        /// A live run: the operator's approval, and the rehearsal the gate's GO rested on.
        public var approval: ApprovalJSON?
        public var evidence: String?
        public var evidenceRun: Int64?
    }

    /// A fingerprint's text is the whole output (`whole`) or its first lines; `bytes` is the
    /// whole output's size and `sha256` the digest of its compared lines (nil in older runs).
    public struct FingerprintJSON: Codable, Sendable, Hashable {
        public var sha256: String?
        public var bytes: Int
        public var whole: Bool

        init(_ output: FingerprintOutput) {
            sha256 = output.digest
            bytes = output.size
            whole = output.isWhole
        }

        static func of(_ fingerprints: RunFingerprints) -> [String: FingerprintJSON] {
            var all: [String: FingerprintJSON] = [:]
            all["before"] = fingerprints.before.map(FingerprintJSON.init)
            all["after"] = fingerprints.after.map(FingerprintJSON.init)
            all["control"] = fingerprints.control.map(FingerprintJSON.init)
            return all
        }
    }

    public struct ApprovalJSON: Codable, Sendable, Hashable {
        public var target: String
        public var user: String
        public var host: String
        /// ISO 8601, UTC.
        public var at: String
    }

    public struct ActivityJSON: Codable, Sendable, Hashable {
        public var phase: String
        public var name: String
        public var status: String
        public var startOffsetNs: Int64?
        public var durationNs: Int64?
        public var exitStatus: Int32?
        public var signal: Int32?
        public var timedOut: Bool
        public var outputTail: String?
        public var logFile: String?

        init(_ record: ActivityRecord) {
            phase = record.kind.rawValue
            name = record.name
            status = record.status.rawValue
            startOffsetNs = record.startOffset?.nanoseconds
            durationNs = record.duration?.nanoseconds
            exitStatus = record.exitStatus
            signal = record.signal
            timedOut = record.timedOut
            outputTail = record.outputTail ?? record.startError
            logFile = record.logFile
        }

        enum CodingKeys: String, CodingKey {
            case phase, name, status, signal
            case startOffsetNs = "start_offset_ns", durationNs = "duration_ns", exitStatus = "exit_status"
            case timedOut = "timed_out", outputTail = "output_tail", logFile = "log_file"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(phase, forKey: .phase)
            try container.encode(name, forKey: .name)
            try container.encode(status, forKey: .status)
            try container.encode(startOffsetNs, forKey: .startOffsetNs)
            try container.encode(durationNs, forKey: .durationNs)
            try container.encode(exitStatus, forKey: .exitStatus)
            try container.encode(signal, forKey: .signal)
            try container.encode(timedOut, forKey: .timedOut)
            try container.encode(outputTail, forKey: .outputTail)
            try container.encode(logFile, forKey: .logFile)
        }
    }

    /// The summary fields of a run (`history --json`), or its complete record.
    public init(_ run: Run, complete: Bool) {
        id = run.id
        plan = run.planName
        target = run.target
        status = run.status.rawValue
        startedAt = Self.iso(run.startedAt)
        endedAt = run.endedAt.map(Self.iso)
        rollbackNs = run.rollback?.nanoseconds
        budgetNs = run.budget.nanoseconds
        groupID = run.group?.id
        kind = run.kind.rawValue
        guard complete else { return }
        details = Details(
            planFile: run.planFile, planHash: run.planHash, strategy: run.strategy, host: run.host, user: run.user,
            pid: run.pid, toolVersion: run.toolVersion, gitCommit: run.gitCommit, failAt: run.failAt,
            cutBefore: run.cut?.kind == .before ? run.cut?.step : nil, stepCount: run.stepCount, groupSize: run.group?.size,
            groupShard: run.group?.shard, copy: run.copy, inputs: run.inputHashes, trigger: run.trigger?.description, triggerCode: run.trigger?.reason.code,
            triggerOffsetNs: run.trigger?.offset.nanoseconds, forwardNs: run.forward?.nanoseconds,
            reasons: run.reasons.map(\.description), reasonCodes: run.reasons.map(\.code), leftApplied: run.leftApplied,
            strayProcesses: run.strayProcesses, fingerprintBefore: run.fingerprintBefore,
            fingerprintAfter: run.fingerprintAfter, fingerprintControl: run.fingerprintControl,
            fingerprints: FingerprintJSON.of(run.fingerprints), activities: run.activities.map(ActivityJSON.init),
            approval: run.approval.map { ApprovalJSON(target: $0.target, user: $0.user, host: $0.host, at: Self.iso($0.at)) },
            evidence: run.evidence, evidenceRun: run.evidenceRun)
        details?.copyServices = run.copyServices
        details?.uid = run.uid
    }

    enum CodingKeys: String, CodingKey {
        case id, plan, target, status, strategy, host, user, pid, trigger, reasons, activities
        case startedAt = "started_at", endedAt = "ended_at", rollbackNs = "rollback_ns", budgetNs = "budget_ns"
        case planFile = "plan_file", planHash = "plan_hash", toolVersion = "tool_version", gitCommit = "git_commit"
        case failAt = "fail_at", triggerCode = "trigger_code", triggerOffsetNs = "trigger_offset_ns"
        case forwardNs = "forward_ns", reasonCodes = "reason_codes", leftApplied = "left_applied"
        case strayProcesses = "stray_processes", copyServices = "copy_services", uid, fingerprintBefore = "fingerprint_before"
        case fingerprintAfter = "fingerprint_after", fingerprintControl = "fingerprint_control", fingerprints, groupID = "group_id", cutBefore = "cut_before"
        case stepCount = "step_count", groupSize = "group_size", groupShard = "group_shard", inputs, copy
        case kind, approval, evidence, evidenceRun = "evidence_run"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(plan, forKey: .plan)
        try container.encode(target, forKey: .target)
        try container.encode(status, forKey: .status)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(rollbackNs, forKey: .rollbackNs)
        try container.encode(budgetNs, forKey: .budgetNs)
        try container.encode(groupID, forKey: .groupID)
        try container.encode(kind, forKey: .kind)
        guard let details else { return }
        try container.encode(details.planFile, forKey: .planFile)
        try container.encode(details.planHash, forKey: .planHash)
        try container.encode(details.strategy, forKey: .strategy)
        try container.encode(details.host, forKey: .host)
        try container.encode(details.user, forKey: .user)
        try container.encode(details.pid, forKey: .pid)
        try container.encode(details.toolVersion, forKey: .toolVersion)
        try container.encode(details.gitCommit, forKey: .gitCommit)
        try container.encode(details.failAt, forKey: .failAt)
        try container.encode(details.cutBefore, forKey: .cutBefore)
        try container.encode(details.stepCount, forKey: .stepCount)
        try container.encode(details.groupSize, forKey: .groupSize)
        try container.encode(details.groupShard, forKey: .groupShard)
        try container.encode(details.copy, forKey: .copy)
        try container.encode(details.inputs, forKey: .inputs)
        try container.encode(details.trigger, forKey: .trigger)
        try container.encode(details.triggerCode, forKey: .triggerCode)
        try container.encode(details.triggerOffsetNs, forKey: .triggerOffsetNs)
        try container.encode(details.forwardNs, forKey: .forwardNs)
        try container.encode(details.reasons, forKey: .reasons)
        try container.encode(details.reasonCodes, forKey: .reasonCodes)
        try container.encode(details.leftApplied, forKey: .leftApplied)
        try container.encode(details.strayProcesses, forKey: .strayProcesses)
        try container.encode(details.copyServices, forKey: .copyServices)
        try container.encode(details.uid, forKey: .uid)
        try container.encode(details.fingerprintBefore, forKey: .fingerprintBefore)
        try container.encode(details.fingerprintAfter, forKey: .fingerprintAfter)
        try container.encode(details.fingerprintControl, forKey: .fingerprintControl)
        try container.encode(details.fingerprints, forKey: .fingerprints)
        try container.encode(details.activities, forKey: .activities)
        try container.encode(details.approval, forKey: .approval)
        try container.encode(details.evidence, forKey: .evidence)
        try container.encode(details.evidenceRun, forKey: .evidenceRun)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        plan = try container.decode(String.self, forKey: .plan)
        target = try container.decode(String.self, forKey: .target)
        status = try container.decode(String.self, forKey: .status)
        startedAt = try container.decode(String.self, forKey: .startedAt)
        endedAt = try container.decodeIfPresent(String.self, forKey: .endedAt)
        rollbackNs = try container.decodeIfPresent(Int64.self, forKey: .rollbackNs)
        budgetNs = try container.decodeIfPresent(Int64.self, forKey: .budgetNs)
        groupID = try container.decodeIfPresent(String.self, forKey: .groupID)
        kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? RunKind.rehearsal.rawValue
        guard container.contains(.planHash) else { return }
        details = Details(
            planFile: try container.decode(String.self, forKey: .planFile),
            planHash: try container.decode(String.self, forKey: .planHash),
            strategy: try container.decode(String.self, forKey: .strategy),
            host: try container.decode(String.self, forKey: .host),
            user: try container.decode(String.self, forKey: .user),
            pid: try container.decode(Int32.self, forKey: .pid),
            toolVersion: try container.decode(String.self, forKey: .toolVersion),
            gitCommit: try container.decodeIfPresent(String.self, forKey: .gitCommit),
            failAt: try container.decodeIfPresent(String.self, forKey: .failAt),
            cutBefore: try container.decodeIfPresent(String.self, forKey: .cutBefore),
            stepCount: try container.decodeIfPresent(Int.self, forKey: .stepCount),
            groupSize: try container.decodeIfPresent(Int.self, forKey: .groupSize),
            groupShard: try container.decodeIfPresent(String.self, forKey: .groupShard),
            copy: try container.decodeIfPresent(Int.self, forKey: .copy),
            inputs: try container.decodeIfPresent([String: String].self, forKey: .inputs) ?? [:],
            trigger: try container.decodeIfPresent(String.self, forKey: .trigger),
            triggerCode: try container.decodeIfPresent(String.self, forKey: .triggerCode),
            triggerOffsetNs: try container.decodeIfPresent(Int64.self, forKey: .triggerOffsetNs),
            forwardNs: try container.decodeIfPresent(Int64.self, forKey: .forwardNs),
            reasons: try container.decode([String].self, forKey: .reasons),
            reasonCodes: try container.decodeIfPresent([String].self, forKey: .reasonCodes) ?? [],
            leftApplied: try container.decode([String].self, forKey: .leftApplied),
            strayProcesses: try container.decodeIfPresent([String].self, forKey: .strayProcesses) ?? [],
            fingerprintBefore: try container.decodeIfPresent(String.self, forKey: .fingerprintBefore),
            fingerprintAfter: try container.decodeIfPresent(String.self, forKey: .fingerprintAfter),
            fingerprintControl: try container.decodeIfPresent(String.self, forKey: .fingerprintControl),
            fingerprints: try container.decodeIfPresent([String: FingerprintJSON].self, forKey: .fingerprints) ?? [:],
            activities: try container.decode([ActivityJSON].self, forKey: .activities),
            approval: try container.decodeIfPresent(ApprovalJSON.self, forKey: .approval),
            evidence: try container.decodeIfPresent(String.self, forKey: .evidence),
            evidenceRun: try container.decodeIfPresent(Int64.self, forKey: .evidenceRun))
        details?.copyServices = try container.decodeIfPresent([String].self, forKey: .copyServices) ?? []
        details?.uid = try container.decodeIfPresent(String.self, forKey: .uid)
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// The documents: `{"schema_version": 1, "runs": [...]}` or `{"schema_version": 1, "run": {...}}`.
public struct RunsDocument: Codable, Sendable {
    public var schemaVersion: Int
    public var runs: [RunJSON]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", runs
    }
}

public struct RunDocument: Codable, Sendable {
    public var schemaVersion: Int
    public var run: RunJSON

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", run
    }
}

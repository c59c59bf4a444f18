import Foundation
import RehearseCore

/// What both kinds of history share: how a run is turned into the columns it is recorded in,
/// and back.
extension HistoryStore {

    /// The row a run starts as (status `running`), and the run as recorded: its plan file made
    /// absolute, its content hash, its globally unique id.
    static func startingRow(for run: Run, logsFolder: String?) -> (RunRow, Run) {
        let identity = ProcessIdentity.current
        var run = run
        run.planFile = URL(fileURLWithPath: run.planFile).standardizedFileURL.path
        // The caller's content hash covers the plan's inputs too; without one, the text's.
        if run.planHash.isEmpty { run.planHash = ContentHash.of(run.planText) }
        run.status = .running
        if run.uid == nil { run.uid = UUID().uuidString.lowercased() }
        var row = RunRow(
            id: nil, planName: run.planName, planFile: run.planFile, planText: run.planText, planHash: run.planHash,
            strategy: run.strategy, target: run.target, host: run.host, user: run.user, pid: run.pid,
            pidStart: identity.pid == run.pid ? identity.start : "", toolVersion: run.toolVersion,
            gitCommit: run.gitCommit, failAt: run.cut?.kind == .failAt ? run.cut?.step : nil, jobs: run.jobs, startedAtNs: Self.nanoseconds(run.startedAt),
            endedAtNs: nil, status: RunStatus.running.rawValue, budgetNs: run.budget.nanoseconds, forwardNs: nil,
            rollbackNs: nil, totalNs: nil, trigger: nil, triggerCode: nil, triggerOffsetNs: nil, fingerprintBefore: nil,
            fingerprintAfter: nil, reasons: "", reasonsJSON: "[]", leftApplied: "", logsFolder: logsFolder,
            processMark: run.processMark, strayProcesses: "", cutBefore: run.cut?.kind == .before ? run.cut?.step : nil,
            stepCount: run.stepCount, groupId: run.group?.id, groupSize: run.group?.size, groupShard: run.group?.shard, copy: run.copy, fingerprintControl: nil,
            groupKind: run.group?.kind.rawValue, modes: run.modes.joined(separator: "\n"),
            inputsJSON: Self.encodeInputs(run.inputHashes), kind: run.kind.rawValue,
            approvalJSON: run.approval.flatMap(Self.encodeApproval), evidence: run.evidence, evidenceRun: run.evidenceRun,
            fingerprintsJSON: nil)
        row.uid = run.uid
        return (row, run)
    }

    /// What a finished run's row is updated with, in both stores: each column, its value, and
    /// whether a nil keeps what the row has (`logs_folder`).
    static func finishedColumns(_ run: Run, path: String) throws(HistoryError) -> [FinishedColumn] {
        func lines(_ items: [String]) -> String { items.joined(separator: "\n") }
        return [
            FinishedColumn("status", .text(run.status.rawValue)), FinishedColumn("ended_at_ns", .integer(Self.nanoseconds(run.endedAt ?? Date()))),
            FinishedColumn("forward_ns", .integer(run.forward?.nanoseconds)), FinishedColumn("rollback_ns", .integer(run.rollback?.nanoseconds)),
            FinishedColumn("total_ns", .integer(run.total?.nanoseconds)), FinishedColumn("fingerprint_before", .text(run.fingerprintBefore)),
            FinishedColumn("fingerprint_after", .text(run.fingerprintAfter)), FinishedColumn("reasons", .text(lines(run.reasons.map(\.description)))),
            FinishedColumn("reasons_json", .text(try Self.encodeReasons(run.reasons, path: path))),
            FinishedColumn("left_applied", .text(lines(run.leftApplied))), FinishedColumn("stray_processes", .text(lines(run.strayProcesses))),
            FinishedColumn("trigger", .text(run.trigger?.description)), FinishedColumn("trigger_code", .text(run.trigger?.reason.code)),
            FinishedColumn("trigger_offset_ns", .integer(run.trigger?.offset.nanoseconds)),
            FinishedColumn("logs_folder", .text(run.logsFolder), keepsWhenNil: true), FinishedColumn("fingerprint_control", .text(run.fingerprintControl)),
            FinishedColumn("fingerprints_json", .text(Self.encodeFingerprintFacts(FingerprintFacts.of(run.fingerprints)))),
            FinishedColumn("copy_services", .text(lines(run.copyServices))),
        ]
    }

    /// Records what runs just marked abandoned still have applied, as their journals show.
    func recordWhatIsStillApplied(_ runs: [Int64]) async throws(HistoryError) {
        for id in runs {
            if let run = try await self.run(id: id) {
                try await recordRecovery(run: id, stillApplied: run.stillAppliedAsRecorded)
            }
        }
    }

    /// What a run whose harness died needs for its processes to be stopped.
    static func abandoned(_ row: RunRow) -> AbandonedRun {
        let plan = PlanParser().parse(row.planText, file: row.planFile, defaultName: row.planName).plan
        return AbandonedRun(id: row.id ?? 0, processMark: row.processMark, kind: RunKind(rawValue: row.kind) ?? .rehearsal,
                            protectedTarget: plan?.target(named: row.target)?.isProtected ?? true)
    }

    static func encodeApproval(_ approval: Approval) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Whole microseconds since 1970, as every recorded time: survives the round trip exactly.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Run.microseconds(date))
        }
        return (try? encoder.encode(approval)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func decodeApproval(_ json: String) -> Approval? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            Run.recordedTime(microseconds: try decoder.singleValueContainer().decode(Int64.self))
        }
        return try? decoder.decode(Approval.self, from: Data(json.utf8))
    }

    static func encodeInputs(_ hashes: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(hashes)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Wall-clock times are kept as integer nanoseconds, in whole microseconds (``Run/recordedTime(_:)``).
    static func nanoseconds(_ date: Date) -> Int64 {
        Run.microseconds(date) * 1000
    }

    /// `--since` as the recorded times are (clamped: a date past 2262 is past every run, not a crash).
    static func nanoseconds(since: Date?) -> Int64? {
        since.map { date -> Int64 in
            let nanoseconds = (date.timeIntervalSince1970 * 1_000_000_000).rounded(.down)
            return nanoseconds >= 9.2e18 ? .max : nanoseconds <= -9.2e18 ? .min : Int64(nanoseconds)
        }
    }

    static func date(nanoseconds: Int64) -> Date {
        Run.recordedTime(microseconds: (nanoseconds + 500) / 1000)
    }

    static func encodeReasons(_ reasons: [RunReason], path: String) throws(HistoryError) -> String {
        do {
            return String(decoding: try JSONEncoder().encode(reasons), as: UTF8.self)
        } catch {
            throw HistoryError(.other, path: path, message: "cannot encode the run's reasons: \(error)", remedy: "report this as a bug")
        }
    }

    static func recorded(_ row: RunRow, activities: [ActivityRow]) -> Run {
        func duration(_ ns: Int64?) -> Duration? { ns.map { .nanoseconds($0) } }
        func lines(_ text: String) -> [String] { text.isEmpty ? [] : text.split(separator: "\n").map(String.init) }
        // A row finished by an older `rehearse` on a shared history has text only: its codes come
        // from the text, as migration v2 gives them.
        var trigger: RollbackTrigger?
        if let offset = row.triggerOffsetNs,
           let reason = (row.triggerCode ?? row.trigger.flatMap(HistorySchema.legacyTriggerCode)).flatMap(RollbackTrigger.Reason.init(code:)) {
            trigger = RollbackTrigger(reason: reason, offset: .nanoseconds(offset))
        }
        var reasons = (try? JSONDecoder().decode([RunReason].self, from: Data(row.reasonsJSON.utf8))) ?? []
        if reasons.isEmpty { reasons = lines(row.reasons).map(RunReason.text) }
        var run = Run(
            id: row.id ?? 0, planName: row.planName, planFile: row.planFile, planText: row.planText, planHash: row.planHash,
            strategy: row.strategy, target: row.target,
            provenance: RunProvenance(host: row.host, user: row.user, pid: row.pid, toolVersion: row.toolVersion, gitCommit: row.gitCommit),
            cut: row.failAt.map(Cut.failAt) ?? row.cutBefore.map(Cut.before), stepCount: row.stepCount,
            group: row.groupId.map {
                RunGroup(id: $0, size: row.groupSize ?? 0, shard: row.groupShard,
                         kind: row.groupKind.flatMap(RunGroup.Kind.init(rawValue:)) ?? .everyCut)
            },
            copy: row.copy, inputHashes: (try? JSONDecoder().decode([String: String].self, from: Data(row.inputsJSON.utf8))) ?? [:],
            jobs: row.jobs, startedAt: Self.date(nanoseconds: row.startedAtNs),
            endedAt: row.endedAtNs.map(Self.date(nanoseconds:)),
            status: RunStatus(rawValue: row.status) ?? .failed, budget: .nanoseconds(row.budgetNs),
            forward: duration(row.forwardNs), rollback: duration(row.rollbackNs), total: duration(row.totalNs),
            trigger: trigger, fingerprintBefore: row.fingerprintBefore, fingerprintAfter: row.fingerprintAfter,
            reasons: reasons, leftApplied: lines(row.leftApplied), strayProcesses: lines(row.strayProcesses),
            activities: activities.map(record), processMark: row.processMark)
        run.logsFolder = row.logsFolder
        run.copyServices = lines(row.copyServices)
        run.uid = row.uid
        run.fingerprintControl = row.fingerprintControl
        run.fingerprints = FingerprintFacts.fingerprints(
            texts: (row.fingerprintBefore, row.fingerprintAfter, row.fingerprintControl),
            facts: Self.decodeFingerprintFacts(row.fingerprintsJSON))
        run.modes = lines(row.modes)
        run.kind = RunKind(rawValue: row.kind) ?? .rehearsal
        run.approval = row.approvalJSON.flatMap(Self.decodeApproval)
        run.evidence = row.evidence
        run.evidenceRun = row.evidenceRun
        return run
    }

    static func record(_ row: ActivityRow) -> ActivityRecord {
        var termination: ProcessOutcome.Termination?
        if let code = row.exitStatus {
            termination = .exited(code)
        } else if let signal = row.signal {
            termination = .signaled(signal)
        } else if let error = row.error {
            termination = .couldNotStart(error)
        }
        return ActivityRecord(
            Activity(Activity.Kind(rawValue: row.kind) ?? .forward, row.name),
            status: ActivityStatus(rawValue: row.status) ?? .failed,
            startOffset: row.startOffsetNs.map { .nanoseconds($0) }, duration: row.durationNs.map { .nanoseconds($0) },
            termination: termination, timedOut: row.timedOut, outputTail: row.outputTail, logFile: row.logFile)
    }
}

/// One column of a finished run's update (``HistoryStore/finishedColumns(_:path:)``).
struct FinishedColumn: Sendable {
    enum Value: Sendable {
        case text(String?)
        case integer(Int64?)
    }

    var column: String
    var value: Value
    /// A nil value keeps what the row has.
    var keepsWhenNil = false

    init(_ column: String, _ value: Value, keepsWhenNil: Bool = false) {
        self.column = column
        self.value = value
        self.keepsWhenNil = keepsWhenNil
    }

    /// `column = PLACEHOLDER`, or `column = coalesce(PLACEHOLDER, column)`.
    func assignment(_ placeholder: String) -> String {
        keepsWhenNil ? "\(column) = coalesce(\(placeholder), \(column))" : "\(column) = \(placeholder)"
    }
}

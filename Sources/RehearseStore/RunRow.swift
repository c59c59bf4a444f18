import GRDB

/// A row of the `run` table: one rehearsal of one plan against one target.
struct RunRow: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "run"
    static let activities = hasMany(ActivityRow.self)

    var id: Int64?
    var planName: String
    var planFile: String
    var planText: String
    var planHash: String
    var strategy: String
    var target: String
    var host: String
    var user: String
    var pid: Int32
    var pidStart: String
    var toolVersion: String
    var gitCommit: String?
    var failAt: String?
    var jobs: Int
    var startedAtNs: Int64
    var endedAtNs: Int64?
    var status: String
    var budgetNs: Int64
    var forwardNs: Int64?
    var rollbackNs: Int64?
    var totalNs: Int64?
    /// The trigger as people read it, and as its stable code (``RollbackTrigger/Reason/code``).
    var trigger: String?
    var triggerCode: String?
    var triggerOffsetNs: Int64?
    var fingerprintBefore: String?
    var fingerprintAfter: String?
    /// One reason per line, as people read them; `reasonsJSON` has them coded.
    var reasons: String
    var reasonsJSON: String
    /// One step id per line.
    var leftApplied: String
    var logsFolder: String?
    /// The run's `REHEARSE_RUN_TOKEN`: how the processes its steps started are found after the harness died.
    var processMark: String?
    /// One command line per line.
    var strayProcesses: String
    /// What the target's setup left running (the copy's servers), one command line per line.
    var copyServices: String = ""
    /// The run's globally unique id (a UUID, lower case): the same in every history it is merged into.
    var uid: String?
    /// `--cut-before STEP` (`fail_at` holds `--fail-at STEP`).
    var cutBefore: String?
    /// Forward steps of a full rehearsal of the plan.
    var stepCount: Int?
    /// The every-cut group: its id, its size and its shard.
    var groupId: String?
    var groupSize: Int?
    var groupShard: String?
    /// The copy the run had to itself (`REHEARSE_COPY`), when it was one of several.
    var copy: Int?
    var fingerprintControl: String?
    var groupKind: String?
    /// One mode per line (`round-trip`, `twice`).
    var modes: String
    /// `{"path": "sha256:…"}` of the plan's inputs.
    var inputsJSON: String
    /// `rehearsal` or `live`.
    var kind: String
    /// A live run's approval: `{"target", "user", "host", "at"}`.
    var approvalJSON: String?
    /// A live run: what the gate's GO rested on.
    var evidence: String?
    var evidenceRun: Int64?
    /// What the fingerprint texts above are: `{"before": {"sha256", "bytes", "whole"}, …}` (a
    /// text may be the first lines of a larger output). Nil in runs recorded before version 8:
    /// their texts are whole.
    var fingerprintsJSON: String?

    enum CodingKeys: String, CodingKey {
        case id, strategy, target, host, user, pid, jobs, status, trigger, reasons
        case planName = "plan_name", planFile = "plan_file", planText = "plan_text", planHash = "plan_hash"
        case pidStart = "pid_start", toolVersion = "tool_version", gitCommit = "git_commit", failAt = "fail_at"
        case startedAtNs = "started_at_ns", endedAtNs = "ended_at_ns", budgetNs = "budget_ns"
        case forwardNs = "forward_ns", rollbackNs = "rollback_ns", totalNs = "total_ns"
        case triggerOffsetNs = "trigger_offset_ns", fingerprintBefore = "fingerprint_before"
        case fingerprintAfter = "fingerprint_after", leftApplied = "left_applied", logsFolder = "logs_folder"
        case processMark = "process_mark", triggerCode = "trigger_code", reasonsJSON = "reasons_json"
        case strayProcesses = "stray_processes", copyServices = "copy_services", uid, cutBefore = "cut_before", stepCount = "step_count"
        case groupId = "group_id", groupSize = "group_size", groupShard = "group_shard", inputsJSON = "inputs_json", copy, fingerprintControl = "fingerprint_control", groupKind = "group_kind", modes
        case kind, approvalJSON = "approval_json", evidence, evidenceRun = "evidence_run", fingerprintsJSON = "fingerprints_json"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of the `activity` table: one command of a run (a step in one direction, a check, the
/// fingerprint, setup or teardown), written when it starts and updated when it ends.
struct ActivityRow: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "activity"

    var id: Int64?
    var runId: Int64
    var kind: String
    var name: String
    var status: String
    var startOffsetNs: Int64?
    var durationNs: Int64?
    var exitStatus: Int32?
    var signal: Int32?
    var timedOut: Bool
    var outputTail: String?
    var logFile: String?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, name, status, signal, error
        case runId = "run_id", startOffsetNs = "start_offset_ns", durationNs = "duration_ns"
        case exitStatus = "exit_status", timedOut = "timed_out", outputTail = "output_tail", logFile = "log_file"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

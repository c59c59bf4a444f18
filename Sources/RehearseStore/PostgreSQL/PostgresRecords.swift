/// Rows of a PostgreSQL history read and written as the SQLite history's records (``RunRow``,
/// ``ActivityRow``): the same columns (a test holds the two lists together). By hand, not
/// through Codable: a gate reads a thousand runs, an import writes millions of activities.
extension RunRow {
    /// Every column but `id`, with its value.
    static let postgresFields: [(column: String, value: @Sendable (RunRow) -> (any PostgresValue)?)] = [
        ("plan_name", { $0.planName }), ("plan_file", { $0.planFile }), ("plan_text", { $0.planText }), ("plan_hash", { $0.planHash }),
        ("strategy", { $0.strategy }), ("target", { $0.target }), ("host", { $0.host }), ("\"user\"", { $0.user }), ("pid", { $0.pid }),
        ("pid_start", { $0.pidStart }), ("tool_version", { $0.toolVersion }), ("git_commit", { $0.gitCommit }), ("fail_at", { $0.failAt }),
        ("jobs", { $0.jobs }), ("started_at_ns", { $0.startedAtNs }), ("ended_at_ns", { $0.endedAtNs }), ("status", { $0.status }),
        ("budget_ns", { $0.budgetNs }), ("forward_ns", { $0.forwardNs }), ("rollback_ns", { $0.rollbackNs }), ("total_ns", { $0.totalNs }),
        ("trigger", { $0.trigger }), ("trigger_code", { $0.triggerCode }), ("trigger_offset_ns", { $0.triggerOffsetNs }),
        ("fingerprint_before", { $0.fingerprintBefore }), ("fingerprint_after", { $0.fingerprintAfter }), ("reasons", { $0.reasons }),
        ("reasons_json", { $0.reasonsJSON }), ("left_applied", { $0.leftApplied }), ("logs_folder", { $0.logsFolder }),
        ("process_mark", { $0.processMark }), ("stray_processes", { $0.strayProcesses }), ("copy_services", { $0.copyServices }),
        ("uid", { $0.uid }), ("cut_before", { $0.cutBefore }), ("step_count", { $0.stepCount }), ("group_id", { $0.groupId }),
        ("group_size", { $0.groupSize }), ("group_shard", { $0.groupShard }), ("copy", { $0.copy }),
        ("fingerprint_control", { $0.fingerprintControl }), ("group_kind", { $0.groupKind }), ("modes", { $0.modes }),
        ("inputs_json", { $0.inputsJSON }), ("kind", { $0.kind }), ("approval_json", { $0.approvalJSON }), ("evidence", { $0.evidence }),
        ("evidence_run", { $0.evidenceRun }), ("fingerprints_json", { $0.fingerprintsJSON }),
    ]

    static let postgresColumns = postgresFields.map(\.column)

    var postgresValues: [(any PostgresValue)?] { Self.postgresFields.map { $0.value(self) } }

    init(postgres row: PostgresRow) throws(PostgresFailure) {
        func text(_ name: String) throws(PostgresFailure) -> String {
            guard let value = row.string(name) else { throw PostgresFailure.unreadable("run", name) }
            return value
        }
        func number(_ name: String) throws(PostgresFailure) -> Int64 {
            guard let value = row.int64(name) else { throw PostgresFailure.unreadable("run", name) }
            return value
        }
        self.init(
            id: row.int64("id"), planName: try text("plan_name"), planFile: try text("plan_file"), planText: try text("plan_text"),
            planHash: try text("plan_hash"), strategy: try text("strategy"), target: try text("target"), host: try text("host"),
            user: try text("user"), pid: Int32(truncatingIfNeeded: try number("pid")), pidStart: try text("pid_start"),
            toolVersion: try text("tool_version"), gitCommit: row.string("git_commit"), failAt: row.string("fail_at"),
            jobs: Int(try number("jobs")), startedAtNs: try number("started_at_ns"), endedAtNs: row.int64("ended_at_ns"),
            status: try text("status"), budgetNs: try number("budget_ns"), forwardNs: row.int64("forward_ns"),
            rollbackNs: row.int64("rollback_ns"), totalNs: row.int64("total_ns"), trigger: row.string("trigger"),
            triggerCode: row.string("trigger_code"), triggerOffsetNs: row.int64("trigger_offset_ns"),
            fingerprintBefore: row.string("fingerprint_before"), fingerprintAfter: row.string("fingerprint_after"),
            reasons: try text("reasons"), reasonsJSON: try text("reasons_json"), leftApplied: try text("left_applied"),
            logsFolder: row.string("logs_folder"), processMark: row.string("process_mark"), strayProcesses: try text("stray_processes"),
            copyServices: try text("copy_services"), uid: row.string("uid"), cutBefore: row.string("cut_before"),
            stepCount: row.int("step_count"), groupId: row.string("group_id"), groupSize: row.int("group_size"),
            groupShard: row.string("group_shard"), copy: row.int("copy"), fingerprintControl: row.string("fingerprint_control"),
            groupKind: row.string("group_kind"), modes: try text("modes"), inputsJSON: try text("inputs_json"), kind: try text("kind"),
            approvalJSON: row.string("approval_json"), evidence: row.string("evidence"), evidenceRun: row.int64("evidence_run"),
            fingerprintsJSON: row.string("fingerprints_json"))
    }
}

extension ActivityRow {
    /// Every column but `id`, in the order of ``postgresValues``.
    static let postgresColumns = [
        "run_id", "kind", "name", "status", "start_offset_ns", "duration_ns", "exit_status", "signal", "timed_out",
        "output_tail", "log_file", "error",
    ]

    var postgresValues: [(any PostgresValue)?] {
        [runId, kind, name, status, startOffsetNs, durationNs, exitStatus, signal, timedOut, outputTail, logFile, error]
    }

    init(postgres row: PostgresRow) throws(PostgresFailure) {
        guard let runId = row.int64("run_id"), let kind = row.string("kind"), let name = row.string("name"),
              let status = row.string("status"), let timedOut = row.bool("timed_out")
        else { throw PostgresFailure.unreadable("activity", "run_id, kind, name, status or timed_out") }
        self.init(id: row.int64("id"), runId: runId, kind: kind, name: name, status: status, startOffsetNs: row.int64("start_offset_ns"),
                  durationNs: row.int64("duration_ns"), exitStatus: row.int32("exit_status"), signal: row.int32("signal"),
                  timedOut: timedOut, outputTail: row.string("output_tail"), logFile: row.string("log_file"), error: row.string("error"))
    }
}

extension PostgresFailure {
    static func unreadable(_ table: String, _ column: String) -> PostgresFailure {
        PostgresFailure(message: "a row of the history's \(table) table has no \(column)", sqlstate: "XX000")
    }
}

/// `$1, $2, …` for `count` parameters from `first`.
func postgresPlaceholders(_ count: Int, from first: Int = 1) -> String {
    (first..<(first + count)).map { "$\($0)" }.joined(separator: ", ")
}

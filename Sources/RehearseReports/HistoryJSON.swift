import Foundation
public import RehearseCore

/// `--json` for `history`, `show` and `compare`: durations are integer nanoseconds (`*_ns`), times
/// are ISO 8601 in UTC, and every document carries `schema_version`.
public enum HistoryJSON {
    public static let schemaVersion = 1

    public static func runs(_ runs: [RecordedRun]) -> String {
        encode(["schema_version": schemaVersion, "runs": runs.map { summary($0) }])
    }

    public static func run(_ run: RecordedRun) -> String {
        encode(["schema_version": schemaVersion, "run": full(run)])
    }

    /// The complete record of several runs: what `run --json FILE` and `report --format json` write.
    public static func report(_ runs: [RecordedRun]) -> String {
        encode(["schema_version": schemaVersion, "runs": runs.map(full)])
    }

    static func full(_ run: RecordedRun) -> [String: Any] {
        var object = summary(run)
        object["plan_file"] = run.planFile
        object["plan_hash"] = run.planHash
        object["strategy"] = run.strategy
        object["host"] = run.host
        object["user"] = run.user
        object["pid"] = Int(run.pid)
        object["tool_version"] = run.toolVersion
        object["git_commit"] = run.gitCommit ?? NSNull()
        object["fail_at"] = run.failAt ?? NSNull()
        object["trigger"] = run.trigger ?? NSNull()
        object["trigger_offset_ns"] = ns(run.triggerOffset)
        object["forward_ns"] = ns(run.forward)
        object["reasons"] = run.reasons
        object["left_applied"] = run.leftApplied
        object["fingerprint_before"] = run.fingerprintBefore ?? NSNull()
        object["fingerprint_after"] = run.fingerprintAfter ?? NSNull()
        object["activities"] = run.activities.map { activity -> [String: Any] in
            [
                "phase": activity.kind.rawValue, "name": activity.name, "status": activity.status,
                "start_offset_ns": ns(activity.startOffset), "duration_ns": ns(activity.duration),
                "exit_status": activity.exitStatus.map { Int($0) as Any } ?? NSNull(),
                "signal": activity.signal.map { Int($0) as Any } ?? NSNull(),
                "timed_out": activity.timedOut, "output_tail": activity.outputTail ?? NSNull(),
                "log_file": activity.logFile ?? NSNull(),
            ]
        }
        return object
    }

    public static func comparison(_ comparison: RunComparison) -> String {
        func change(_ change: RunComparison.Change) -> [String: Any] {
            ["before_ns": ns(change.before), "after_ns": ns(change.after), "delta_ns": ns(change.delta),
             "relative": change.relative ?? NSNull(), "regression": change.isRegression]
        }
        let changes = comparison.planChanges
        return encode([
            "schema_version": schemaVersion,
            "before": comparison.before.label, "after": comparison.after.label,
            "thresholds": ["relative": comparison.thresholds.relative, "absolute_ns": ns(comparison.thresholds.absolute)],
            "steps": comparison.rows.map { ["step": $0.step, "forward": change($0.forward), "rollback": change($0.rollback), "regression": $0.isRegression] },
            "rollback_total": change(comparison.rollbackTotal),
            "budget_before_ns": ns(comparison.before.budget), "budget_after_ns": ns(comparison.after.budget),
            "plan_changes": [
                "added": changes.added, "removed": changes.removed,
                "changed": changes.changed.map { ["step": $0.step, "fields": $0.fields] },
            ],
        ])
    }

    static func summary(_ run: RecordedRun) -> [String: Any] {
        [
            "id": Int(run.id), "plan": run.planName, "target": run.target, "status": run.status.rawValue,
            "started_at": iso(run.startedAt), "ended_at": run.endedAt.map { iso($0) as Any } ?? NSNull(),
            "rollback_ns": ns(run.rollback), "budget_ns": ns(run.budget),
        ]
    }

    static func ns(_ duration: Duration?) -> Any {
        duration.map { Int($0.nanoseconds) as Any } ?? NSNull()
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func encode(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

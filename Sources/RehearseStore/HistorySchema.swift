import Foundation
import GRDB

/// The history's schema, as migrations. A migration is never edited once shipped: a change is a
/// new migration, so any older file can be brought up to date, and a file with a migration this
/// build does not know is refused as coming from a newer `rehearse`.
enum HistorySchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs and activities") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    plan_name TEXT NOT NULL,
                    plan_file TEXT NOT NULL,
                    plan_text TEXT NOT NULL,
                    plan_hash TEXT NOT NULL,
                    strategy TEXT NOT NULL,
                    target TEXT NOT NULL,
                    host TEXT NOT NULL,
                    user TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    pid_start TEXT NOT NULL,
                    tool_version TEXT NOT NULL,
                    git_commit TEXT,
                    fail_at TEXT,
                    jobs INTEGER NOT NULL,
                    started_at_ns INTEGER NOT NULL,
                    ended_at_ns INTEGER,
                    status TEXT NOT NULL,
                    budget_ns INTEGER NOT NULL,
                    forward_ns INTEGER,
                    rollback_ns INTEGER,
                    total_ns INTEGER,
                    trigger TEXT,
                    trigger_offset_ns INTEGER,
                    fingerprint_before TEXT,
                    fingerprint_after TEXT,
                    reasons TEXT NOT NULL DEFAULT '',
                    left_applied TEXT NOT NULL DEFAULT '',
                    logs_folder TEXT,
                    process_mark TEXT
                ) STRICT;
                CREATE INDEX run_by_plan ON run(plan_name, id);
                CREATE INDEX run_by_plan_target ON run(plan_name, target, id);
                CREATE INDEX run_by_hash ON run(plan_hash, target, id);
                CREATE INDEX run_running ON run(status) WHERE status = 'running';

                CREATE TABLE activity (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    start_offset_ns INTEGER,
                    duration_ns INTEGER,
                    exit_status INTEGER,
                    signal INTEGER,
                    timed_out INTEGER NOT NULL DEFAULT 0,
                    output_tail TEXT,
                    log_file TEXT,
                    error TEXT
                ) STRICT;
                CREATE INDEX activity_by_run ON activity(run_id, id);
                """)
        }
        migrator.registerMigration("v2: coded triggers and reasons, stray processes") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN trigger_code TEXT;
                ALTER TABLE run ADD COLUMN reasons_json TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE run ADD COLUMN stray_processes TEXT NOT NULL DEFAULT '';
                """)
            // Runs recorded before: their trigger and reasons were English text only.
            let rows = try Row.fetchAll(db, sql: "SELECT id, trigger, reasons FROM run")
            for row in rows {
                let id: Int64 = row["id"]
                let trigger: String? = row["trigger"]
                let reasons: String = row["reasons"] ?? ""
                let lines = reasons.split(separator: "\n").map { ["code": "text", "detail": String($0)] }
                let json = String(decoding: try JSONSerialization.data(withJSONObject: lines, options: [.sortedKeys]), as: UTF8.self)
                try db.execute(sql: "UPDATE run SET trigger_code = ?, reasons_json = ? WHERE id = ?",
                               arguments: [trigger.flatMap(legacyTriggerCode), json, id])
            }
        }
        migrator.registerMigration("v3: cuts, every-cut groups, plan inputs") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN cut_before TEXT;
                ALTER TABLE run ADD COLUMN step_count INTEGER;
                ALTER TABLE run ADD COLUMN group_id TEXT;
                ALTER TABLE run ADD COLUMN group_size INTEGER;
                ALTER TABLE run ADD COLUMN group_shard TEXT;
                ALTER TABLE run ADD COLUMN inputs_json TEXT NOT NULL DEFAULT '{}';
                CREATE INDEX run_by_group ON run(group_id) WHERE group_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v4: the copy a run had") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN copy INTEGER")
        }
        migrator.registerMigration("v5: the control copy's fingerprint") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN fingerprint_control TEXT")
        }
        migrator.registerMigration("v6: repeated groups and run modes") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN group_kind TEXT;
                ALTER TABLE run ADD COLUMN modes TEXT NOT NULL DEFAULT '';
                """)
        }
        migrator.registerMigration("v7: live runs, their approval and evidence") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN kind TEXT NOT NULL DEFAULT 'rehearsal';
                ALTER TABLE run ADD COLUMN approval_json TEXT;
                ALTER TABLE run ADD COLUMN evidence TEXT;
                ALTER TABLE run ADD COLUMN evidence_run INTEGER;
                """)
        }
        migrator.registerMigration("v8: bounded fingerprints, their sizes and digests") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN fingerprints_json TEXT")
        }
        // Activities of kind `stop` (a step's stop hook) and the reason `stop-hook-failed`: an
        // older rehearse would read them as forward steps, so it must refuse this history.
        migrator.registerMigration("v9: stop hooks, and the processes a target's setup left running") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN copy_services TEXT NOT NULL DEFAULT ''")
        }
        // Run numbers start at 1 in every history: merging histories (`history import`) needs an
        // id no other run anywhere has. Runs recorded before get one now, derived from what they
        // recorded (so that the same old file imported twice gives the same ids).
        migrator.registerMigration("v10: globally unique run ids") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN uid TEXT;
                UPDATE run SET uid = \(derivedUID);
                CREATE UNIQUE INDEX run_by_uid ON run(uid);
                """)
        }
        return migrator
    }

    /// The globally unique id of a run recorded without one, from its own columns (the same
    /// whenever it is derived): its run token, where and when it ran, and its number there.
    static let derivedUID = """
        'legacy-' || coalesce(lower(process_mark), '') || '-' || host || '-' || pid || '-' || started_at_ns || '-' || id
        """

    /// The code of a trigger that version 1 stored as the sentence it printed.
    static func legacyTriggerCode(_ text: String) -> String? {
        func between(_ prefix: String, _ suffix: String) -> String? {
            guard text.hasPrefix(prefix), text.hasSuffix(suffix), text.count >= prefix.count + suffix.count else { return nil }
            return String(text.dropFirst(prefix.count).dropLast(suffix.count))
        }
        if text == "planned rollback after the forward steps and smoke checks" { return "rehearsal" }
        if let step = between("--fail-at ", "") { return "injected:" + step }
        if let step = between("forward step '", "' failed") { return "step-failed:" + step }
        if let check = between("smoke check '", "' failed") { return "smoke-failed:" + check }
        if let name = between("interrupted by ", "") {
            let numbers = ["SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGABRT": 6, "SIGKILL": 9, "SIGPIPE": 13, "SIGTERM": 15]
            if let number = numbers[name] { return "interrupted:\(number)" }
            if let number = between("interrupted by signal ", "").flatMap({ Int($0) }) { return "interrupted:\(number)" }
        }
        return nil
    }
}

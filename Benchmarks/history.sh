#!/usr/bin/env bash
# The history's targets (issue 4), measured on this machine:
#   - with 100,000 runs of 20 steps, `history`, `show`, `compare` and `gate` as whole commands
#     (process start included)                                            target: under 100 ms each
#   - what journaling adds per step: in a 200-step chain, the gap between one step's recorded end
#     and the next one's start holds all the harness's bookkeeping, journal writes included
#                                                                          target: under 1 ms
#   - the database's size per run
#   - exporting the whole history, importing it into an empty one, and importing it again
# Usage: Benchmarks/history.sh [RUNS]        (REHEARSE_BIN=path skips the release build)
source "$(dirname "$0")/common.sh"
runs=${1:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Rehearsals"
cd "$work"
steps="  s0: { run: 'true', rollback: 'true' }
"
for i in $(seq 1 9); do steps="$steps  s$i: { run: 'true', rollback: 'true', needs: s$((i - 1)) }
"; done
printf 'strategy: custom\nbudget: { rollback: 4m }\ntargets:\n  copy: {}\n  production: { protected: true }\nsteps:\n%s' "$steps" > Rehearsals/bench.yml
"$REHEARSE_BIN" run Rehearsals/bench.yml > /dev/null   # run 1: creates the schema, a real run to copy
db=.rehearse/history.sqlite

echo "generating $runs runs of 20 step activities each..." >&2
start=$(now_ns)
sqlite3 "$db" > /dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $runs)
INSERT INTO run (id, plan_name, plan_file, plan_text, plan_hash, strategy, target, host, user, pid, pid_start,
                 tool_version, git_commit, fail_at, jobs, started_at_ns, ended_at_ns, status, budget_ns,
                 forward_ns, rollback_ns, total_ns, trigger, trigger_offset_ns, fingerprint_before,
                 fingerprint_after, reasons, left_applied, logs_folder, process_mark, uid)
SELECT i, CASE WHEN i % 10 = 0 THEN 'bench' ELSE 'plan-' || (i % 50) END, plan_file, plan_text, plan_hash,
       strategy, target, host, user, pid, pid_start, tool_version, git_commit, NULL, jobs,
       started_at_ns - ($runs - i) * 60000000000, ended_at_ns - ($runs - i) * 60000000000,
       CASE WHEN i % 17 = 0 THEN 'failed' WHEN i % 13 = 0 THEN 'over-budget' ELSE 'passed' END, budget_ns,
       forward_ns + (i % 100) * 1000000, rollback_ns + (i % 70) * 1000000, total_ns, trigger, trigger_offset_ns,
       fingerprint_before, fingerprint_after, reasons, '', NULL, NULL, 'bench-' || i
FROM n, (SELECT * FROM run WHERE id = 1);
INSERT INTO activity (run_id, kind, name, status, start_offset_ns, duration_ns, exit_status, signal, timed_out, output_tail, log_file, error)
SELECT run.id, a.kind, a.name, a.status, a.start_offset_ns, a.duration_ns + (run.id % 9) * 1000000, a.exit_status, NULL, 0, NULL, NULL, NULL
FROM run, (SELECT * FROM activity WHERE run_id = 1 AND kind IN ('forward', 'rollback')) AS a
WHERE run.id > 1 ORDER BY run.id;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
end=$(now_ns)
echo "  generated in $(( (end - start) / 1000000 )) ms" >&2
"$REHEARSE_BIN" run Rehearsals/bench.yml > /dev/null   # the newest run, for gate and compare
count=$(sqlite3 "$db" "SELECT count(*) FROM run")
activities=$(sqlite3 "$db" "SELECT count(*) FROM activity")
size=$(stat -c %s "$db")
echo "history: $count runs, $activities activities, $((size / 1024 / 1024)) MiB -> $((size / count)) bytes per run"
last=$(sqlite3 "$db" "SELECT max(id) FROM run")
time_reading_commands "$last" "$db"
time_run_start "$db"

# Merging: the whole history exported to a new file, then imported into an empty one, then again
# (which adds nothing).
time_transfers "$db" merged.sqlite

# Journaling cost: a 200-step chain, then the gaps between consecutive steps as the journal recorded them.
chain="  c0: { run: 'true', rollback: 'true' }
"
for i in $(seq 1 199); do chain="$chain  c$i: { run: 'true', rollback: 'true', needs: c$((i - 1)) }
"; done
printf 'strategy: custom\ntargets:\n  copy: {}\nsteps:\n%s' "$chain" > Rehearsals/chain.yml
"$REHEARSE_BIN" run Rehearsals/chain.yml > /dev/null
chain_run=$(sqlite3 "$db" "SELECT max(id) FROM run")
sqlite3 "$db" <<SQL
WITH steps AS (
  SELECT start_offset_ns AS start, start_offset_ns + duration_ns AS finish,
         lead(start_offset_ns) OVER (ORDER BY start_offset_ns) AS next_start
  FROM activity WHERE run_id = $chain_run AND kind = 'forward')
SELECT printf('journal + scheduling between steps of a 200-step chain: median %.3f ms, mean %.3f ms, max %.3f ms per step (run $chain_run)',
              (SELECT (next_start - finish) / 1e6 FROM steps WHERE next_start IS NOT NULL ORDER BY next_start - finish
               LIMIT 1 OFFSET (SELECT count(*) / 2 FROM steps WHERE next_start IS NOT NULL)),
              avg((next_start - finish) / 1e6), max((next_start - finish) / 1e6))
FROM steps WHERE next_start IS NOT NULL;
SQL

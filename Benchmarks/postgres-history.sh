#!/usr/bin/env bash
# The shared PostgreSQL history (issue 13), measured on this machine against a throwaway server
# on loopback (Fixtures/examples/postgres/scripts/server, PostgreSQL from Debian's packages):
#   - with 100,000 runs of 20 steps, `history`, `show`, `compare` and `gate` as whole commands
#     (process start and connection included)                             target: under 100 ms each
#   - what journaling adds per step in a 200-step chain (each journal write is a round trip)
#   - the database's size per run
#   - exporting the whole history to a file, and importing that file into an empty database
# Usage: Benchmarks/postgres-history.sh [RUNS]   (REHEARSE_BIN=path skips the release build;
#        PGPORT picks the server's port, default 54391)
source "$(dirname "$0")/common.sh"
runs=${1:-100000}
port=${PGPORT:-54391}
work=$(mktemp -d)
chmod 0755 "$work"
server="$root/Fixtures/examples/postgres/scripts/server"
trap 'PGPORT=$port "$server" stop "$work/data" >/dev/null 2>&1; rm -rf "$work"' EXIT
PGPORT=$port "$server" start "$work/data"
psql_() { psql -X -q -At -h 127.0.0.1 -p "$port" -U postgres "$@"; }
psql_ -d postgres -c "CREATE DATABASE bench" -c "CREATE DATABASE merged"
url="postgresql://postgres@127.0.0.1:$port/bench"

mkdir -p "$work/project/Rehearsals"
cd "$work/project"
steps="  s0: { run: 'true', rollback: 'true' }
"
for i in $(seq 1 9); do steps="$steps  s$i: { run: 'true', rollback: 'true', needs: s$((i - 1)) }
"; done
printf 'strategy: custom\nbudget: { rollback: 4m }\ntargets:\n  copy: {}\n  production: { protected: true }\nsteps:\n%s' "$steps" > Rehearsals/bench.yml
"$REHEARSE_BIN" run Rehearsals/bench.yml --history "$url" > /dev/null   # run 1: creates the schema, a real run to copy

echo "generating $runs runs of 20 step activities each..." >&2
start=$(now_ns)
psql_ -d bench > /dev/null <<SQL
BEGIN;
INSERT INTO rehearse.run (uid, plan_name, plan_file, plan_text, plan_hash, strategy, target, host, "user", pid, pid_start,
    tool_version, git_commit, jobs, started_at_ns, ended_at_ns, status, budget_ns, forward_ns, rollback_ns, total_ns,
    trigger, trigger_code, trigger_offset_ns, fingerprint_before, fingerprint_after, reasons, reasons_json, left_applied,
    stray_processes, copy_services, modes, inputs_json, kind, fingerprints_json, step_count)
SELECT 'bench-' || i, CASE WHEN i % 10 = 0 THEN 'bench' ELSE 'plan-' || (i % 50) END, plan_file, plan_text, plan_hash,
    strategy, target, host, "user", pid, pid_start, tool_version, git_commit, jobs,
    started_at_ns - ($runs - i) * 60000000000, ended_at_ns - ($runs - i) * 60000000000,
    CASE WHEN i % 17 = 0 THEN 'failed' WHEN i % 13 = 0 THEN 'over-budget' ELSE 'passed' END, budget_ns,
    forward_ns + (i % 100) * 1000000, rollback_ns + (i % 70) * 1000000, total_ns, trigger, trigger_code, trigger_offset_ns,
    fingerprint_before, fingerprint_after, reasons, reasons_json, '', '', '', modes, inputs_json, kind, fingerprints_json, step_count
FROM generate_series(2, $runs) AS i, (SELECT * FROM rehearse.run WHERE id = 1) AS r
ORDER BY i;
INSERT INTO rehearse.activity (run_id, kind, name, status, start_offset_ns, duration_ns, exit_status, timed_out)
SELECT run.id, a.kind, a.name, a.status, a.start_offset_ns, a.duration_ns + (run.id % 9) * 1000000, a.exit_status, false
FROM rehearse.run AS run, (SELECT * FROM rehearse.activity WHERE run_id = 1 AND kind IN ('forward', 'rollback')) AS a
WHERE run.id > 1 ORDER BY run.id, a.id;
COMMIT;
VACUUM ANALYZE;
SQL
end=$(now_ns)
echo "  generated in $(( (end - start) / 1000000 )) ms" >&2
"$REHEARSE_BIN" run Rehearsals/bench.yml --history "$url" > /dev/null   # the newest run, for gate and compare
count=$(psql_ -d bench -c "SELECT count(*) FROM rehearse.run")
activities=$(psql_ -d bench -c "SELECT count(*) FROM rehearse.activity")
size=$(psql_ -d bench -c "SELECT pg_total_relation_size('rehearse.run') + pg_total_relation_size('rehearse.activity')")
echo "PostgreSQL history: $count runs, $activities activities, $((size / 1024 / 1024)) MiB -> $((size / count)) bytes per run"
last=$(psql_ -d bench -c "SELECT max(id) FROM rehearse.run")
time_reading_commands "$last" "$url"
time_run_start "$url"
time_transfers "$url" "postgresql://postgres@127.0.0.1:$port/merged"

chain="  c0: { run: 'true', rollback: 'true' }
"
for i in $(seq 1 199); do chain="$chain  c$i: { run: 'true', rollback: 'true', needs: c$((i - 1)) }
"; done
printf 'strategy: custom\ntargets:\n  copy: {}\nsteps:\n%s' "$chain" > Rehearsals/chain.yml
"$REHEARSE_BIN" run Rehearsals/chain.yml --history "$url" > /dev/null
psql_ -d bench <<SQL
WITH chain AS (SELECT max(id) AS id FROM rehearse.run WHERE plan_name = 'chain'),
steps AS (
  SELECT start_offset_ns AS start, start_offset_ns + duration_ns AS finish,
         lead(start_offset_ns) OVER (ORDER BY start_offset_ns) AS next_start
  FROM rehearse.activity WHERE run_id = (SELECT id FROM chain) AND kind = 'forward')
SELECT format('journal + scheduling between steps of a 200-step chain: median %s ms, mean %s ms, max %s ms per step',
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY next_start - finish) / 1e6)::numeric, 3),
              round((avg(next_start - finish) / 1e6)::numeric, 3), round((max(next_start - finish) / 1e6)::numeric, 3))
FROM steps WHERE next_start IS NOT NULL;
SQL

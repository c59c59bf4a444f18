#!/usr/bin/env bash
# The runner's targets (issue 3), measured on this machine:
#   overhead    a 200-step chain of `true` (400 processes with the rollback) vs a shell loop running
#               the same 400 `sh -c true` in sequence                      target: at most 1.3x
#   scheduling  8 chains of 10 steps of `sleep 0.05`, --jobs 8: forward + rollback against the
#               critical path of 1 s                                       target: at most 1.1x
#   accuracy    a `sleep 0.2` step as recorded vs an external timer around `sh -c 'sleep 0.2'`
#                                                                          target: within 5 ms
#   memory      a step writing 1 GiB to stdout: the harness's peak RSS    target: under 64 MB
# Usage: Benchmarks/runner.sh        (REHEARSE_BIN=path skips the release build)
source "$(dirname "$0")/common.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Rehearsals"
cd "$work"

plan_header() { printf 'strategy: custom\nbudget: { rollback: 10m }\ntargets:\n  copy: {}\nsteps:\n'; }

# --- overhead -------------------------------------------------------------------------------
{
  plan_header
  echo "  s0: { run: 'true', rollback: 'true' }"
  for i in $(seq 1 199); do echo "  s$i: { run: 'true', rollback: 'true', needs: s$((i - 1)) }"; done
} > Rehearsals/chain.yml
cat > loop.sh <<'SH'
for i in $(seq 1 400); do /bin/sh -c true; done
SH
# Interleaved, so that all see the same machine load; medians of 9. The second figure is the same
# chain on swift-subprocess (REHEARSE_EXECUTOR=subprocess), the runner this one replaced.
harness_runs=(); subprocess_runs=(); shell_runs=()
for _ in $(seq 9); do
  harness_runs+=("$(median_ms 1 "$REHEARSE_BIN" run Rehearsals/chain.yml)")
  subprocess_runs+=("$(median_ms 1 env REHEARSE_EXECUTOR=subprocess "$REHEARSE_BIN" run Rehearsals/chain.yml)")
  shell_runs+=("$(median_ms 1 bash loop.sh)")
done
harness=$(printf '%s\n' "${harness_runs[@]}" | sort -n | sed -n 5p)
subprocess=$(printf '%s\n' "${subprocess_runs[@]}" | sort -n | sed -n 5p)
shell=$(printf '%s\n' "${shell_runs[@]}" | sort -n | sed -n 5p)
ratio=$(awk -v a="$harness" -v b="$shell" 'BEGIN { printf "%.2f", a / b }')
echo "overhead:   200-step chain, 400 processes: rehearse ${harness} ms, shell loop ${shell} ms -> ${ratio}x (target <= 1.3x)"
echo "            the same on swift-subprocess: ${subprocess} ms -> $(awk -v a="$subprocess" -v b="$shell" 'BEGIN { printf "%.2f", a / b }')x"
# Where the time goes: each command's own recorded duration (spawn until reaped, journal excluded)
# against the shell loop's time per command; the rest is the journal and the scheduling between.
"$REHEARSE_BIN" run Rehearsals/chain.yml >/dev/null
spawn=$(sqlite3 .rehearse/history.sqlite "SELECT duration_ns FROM activity WHERE run_id = (SELECT max(id) FROM run) ORDER BY duration_ns LIMIT 1 OFFSET 200")
echo "            per command: spawn to reap $(awk -v n="$spawn" 'BEGIN { printf "%.2f", n / 1e6 }') ms (median), shell loop $(awk -v t="$shell" 'BEGIN { printf "%.2f", t / 400 }') ms, rehearse in all $(awk -v t="$harness" 'BEGIN { printf "%.2f", t / 400 }') ms"
rm Rehearsals/chain.yml

# --- scheduling -----------------------------------------------------------------------------
{
  plan_header
  for c in $(seq 1 8); do
    echo "  c${c}s0: { run: 'sleep 0.05', rollback: 'sleep 0.05' }"
    for i in $(seq 1 9); do echo "  c${c}s$i: { run: 'sleep 0.05', rollback: 'sleep 0.05', needs: c${c}s$((i - 1)) }"; done
  done
} > Rehearsals/chains.yml
best=""
for _ in 1 2 3; do
  line=$("$REHEARSE_BIN" run Rehearsals/chains.yml --jobs 8 | grep 'PASSED')
  fwd=$(echo "$line" | sed -E 's/.*forward ([0-9.]+)(m?s).*/\1 \2/')
  rb=$(echo "$line" | sed -E 's/.*rollback ([0-9.]+)(m?s) of.*/\1 \2/')
  total=$(echo "$fwd $rb" | awk '{ f = ($2 == "ms") ? $1 / 1000 : $1; r = ($4 == "ms") ? $3 / 1000 : $3; printf "%.3f", f + r }')
  if [ -z "$best" ] || awk -v t="$total" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$total; fi
done
echo "scheduling: 8 chains x 10 steps of 0.05 s, --jobs 8: forward + rollback ${best} s (best of 3) vs critical path 1.000 s -> $(awk -v t="$best" 'BEGIN { printf "%.2f", t / 1.0 }')x (target <= 1.1x)"
rm Rehearsals/chains.yml

# --- accuracy -------------------------------------------------------------------------------
{ plan_header; echo "  nap: { run: 'sleep 0.2', rollback: 'true' }"; } > Rehearsals/nap.yml
recorded=()
for _ in $(seq 5); do
  ms=$("$REHEARSE_BIN" run Rehearsals/nap.yml | grep -E 'ok +forward +nap' | sed -E 's/.*nap ([0-9]+)ms.*/\1/')
  recorded+=("$ms")
done
recorded_median=$(printf '%s\n' "${recorded[@]}" | sort -n | sed -n 3p)
external=$(python3 - <<'PY'
import subprocess, time, statistics
samples = []
for _ in range(5):
    start = time.perf_counter()
    subprocess.run(["/bin/sh", "-c", "sleep 0.2"])
    samples.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(samples):.1f}")
PY
)
echo "accuracy:   'sleep 0.2' recorded ${recorded_median} ms (median of 5), external timer ${external} ms -> difference $(awk -v a="$recorded_median" -v b="$external" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.1f", d }') ms (target <= 5 ms)"
rm Rehearsals/nap.yml

# --- memory ---------------------------------------------------------------------------------
{ plan_header; echo "  flood: { run: 'head -c 1073741824 /dev/zero', rollback: 'true', timeout: 5m }"; } > Rehearsals/flood.yml
rss=$( { /usr/bin/time -f '%M' "$REHEARSE_BIN" run Rehearsals/flood.yml >/dev/null; } 2>&1 | tail -n 1)
rss_verbose=$( { /usr/bin/time -f '%M' "$REHEARSE_BIN" run Rehearsals/flood.yml --verbose >/dev/null; } 2>&1 | tail -n 1)
echo "memory:     step writing 1 GiB to stdout: harness peak RSS $((rss / 1024)) MB; with --verbose (streamed through the harness) $((rss_verbose / 1024)) MB (target < 64 MB)"

# Shared by the benchmark scripts: build rehearse (release unless REHEARSE_BIN names a binary)
# and time commands in milliseconds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -z "${REHEARSE_BIN:-}" ]; then
  echo "building rehearse (release)..." >&2
  (cd "$root" && swift build -c release --product rehearse >/dev/null)
  REHEARSE_BIN="$root/.build/release/rehearse"
fi
REHEARSE_BIN=$(realpath "$REHEARSE_BIN")
export REHEARSE_BIN

now_ns() { date +%s%N; }

# median_ms RUNS COMMAND...: runs COMMAND RUNS times and prints the median wall time in ms.
median_ms() {
  local runs=$1; shift
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(now_ns)
    "$@" >/dev/null 2>&1 || true
    end=$(now_ns)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f\n", m/1000}'
}

# time_reading_commands LAST_RUN HISTORY: `history`, `show`, `compare`, `gate` on a bench history
# (bench.yml's plan, a run 50000 and LAST_RUN), each the median of 7 whole commands.
time_reading_commands() {
  local last=$1 history=$2
  for command in "history" "history bench --limit 20" "show" "show 50000" "compare" "compare 50000 $last" "compare --baseline 20" "gate Rehearsals/bench.yml --target production"; do
    # shellcheck disable=SC2086
    ms=$(median_ms 7 "$REHEARSE_BIN" $command --history "$history")
    printf '  %-50s %6s ms (median of 7, whole command)\n' "rehearse $command" "$ms"
  done
}

# time_transfers FROM INTO: the whole history FROM exported to export.sqlite, imported into INTO
# (empty), then imported again (which adds nothing).
time_transfers() {
  local from=$1 into=$2
  for step in "history export export.sqlite --history $from" "history import export.sqlite --history $into" "history import export.sqlite --history $into"; do
    start=$(now_ns)
    # shellcheck disable=SC2086
    said=$("$REHEARSE_BIN" $step)
    end=$(now_ns)
    printf '  %-50s %6s ms (%s)\n' "rehearse ${step%% --history*}" "$(( (end - start) / 1000000 ))" "$said"
  done
}

# time_run_start HISTORY: a one-step rehearsal as a whole command, on the target the history's runs
# are on (the newest run on its copy is near) and on a target no run has used yet (each plan's
# newest run of it is looked for): what finding what an earlier run left on the copy costs.
time_run_start() {
  local history=$1
  printf 'strategy: custom\ntargets:\n  copy: {}\n  fresh: {}\nsteps:\n  a: { run: "true", rollback: "true" }\n' > Rehearsals/tiny.yml
  for target in copy fresh; do
    ms=$(median_ms 7 "$REHEARSE_BIN" run Rehearsals/tiny.yml --target "$target" --history "$history")
    printf '  %-50s %6s ms (median of 7, whole command)\n' "rehearse run tiny.yml --target $target" "$ms"
  done
}

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

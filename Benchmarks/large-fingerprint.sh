#!/usr/bin/env bash
# A large fingerprint (issue 14, item 12), measured on this machine: a fingerprint command that
# prints SIZE_MB megabytes (default 300), taken before and after the rollback. Prints the wall
# time and the peak memory (max RSS) of the rehearsal and of the commands that read it back, and
# the size of the history. The history keeps the first MiB of each fingerprint, its size and digest.
# Usage: Benchmarks/large-fingerprint.sh [SIZE_MB]   (REHEARSE_BIN=path skips the release build)
source "$(dirname "$0")/common.sh"
size_mb=${1:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Rehearsals"
cd "$work"
head -c "$((size_mb * 1000 * 1000))" < <(yes 'orders 1234: 5678 cents, placed 2026-12-06, status shipped') > state.txt
cat > Rehearsals/large.yml <<'YAML'
strategy: custom
targets: { copy: {} }
fingerprint: cat ../state.txt
steps:
  a: { run: 'true', rollback: 'true' }
YAML
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1 || true
  read -r seconds kib < "$work/time"
  printf '%-28s %6.2f s  %7.1f MiB max RSS\n' "$label" "$seconds" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')"
}
echo "fingerprint of ${size_mb} MB, taken twice:"
measure "rehearse run" "$REHEARSE_BIN" run Rehearsals/large.yml
"$REHEARSE_BIN" run Rehearsals/large.yml | grep -q PASSED || { echo "the rehearsal did not pass"; exit 1; }
measure "rehearse history" "$REHEARSE_BIN" history
measure "rehearse show" "$REHEARSE_BIN" show
measure "rehearse report --format json" "$REHEARSE_BIN" report --format json
printf '%-28s %6.1f MiB\n' "history file" "$(du -k .rehearse/history.sqlite | awk '{ print $1 / 1024 }')"

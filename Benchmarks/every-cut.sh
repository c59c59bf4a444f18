#!/usr/bin/env bash
# The every-cut matrix (issue 10), measured on this machine: the four sample plans rehearsed from
# every cut point (19 rehearsals, each with its own copy's setup and teardown: an SQLite database,
# a live HTTP server), one copy at a time and four copies side by side. Prints the wall time of
# each, the work (the sum of the runs' own times), and the speed-up.
# Usage: Benchmarks/every-cut.sh        (REHEARSE_BIN=path skips the release build)
source "$(dirname "$0")/common.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Fixtures"
cp -r "$root/Rehearsals" "$work/Rehearsals"
cp -r "$root/Fixtures/copy-env" "$work/Fixtures/copy-env"
cd "$work"

cores=$(nproc)
echo "every-cut matrix of the 4 sample plans on $cores core(s):"
for copies in 1 4; do
  best=""
  for _ in 1 2 3; do
    rm -rf .rehearse
    start=$(now_ns)
    "$REHEARSE_BIN" run --every-cut --copies "$copies" > out.txt 2>&1 || { cat out.txt; exit 1; }
    end=$(now_ns)
    ms=$(( (end - start) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then
      best=$ms
      runs=$(sqlite3 .rehearse/history.sqlite "SELECT count(*) FROM run")
      work_ms=$(sqlite3 .rehearse/history.sqlite "SELECT sum(total_ns) / 1000000 FROM run")
    fi
  done
  echo "  --copies $copies: $runs rehearsals, wall ${best} ms (best of 3), work ${work_ms} ms (sum of the runs' own times)"
  eval "wall_$copies=$best"
done
echo "  speed-up with 4 copies: $(awk -v a="$wall_1" -v b="$wall_4" 'BEGIN { printf "%.2f", a / b }')x (at most min(4, cores) when the work is CPU-bound)"

#!/usr/bin/env bash
# How long `rehearse check` takes on a generated plan of 10,000 steps (target: well under 1 s).
# The plan is a realistic mix: chains with fan-in every 10 steps, roles-free custom strategy.
# Usage: Benchmarks/check-large-plan.sh [STEPS]     (REHEARSE_BIN=path skips the release build)
source "$(dirname "$0")/common.sh"
steps=${1:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
plan="$work/large.yml"
{
  echo "name: large"
  echo "strategy: custom"
  echo "budget: { rollback: 4m }"
  echo "targets:"
  echo "  copy: { env: { APP_ROOT: /tmp/large } }"
  echo "steps:"
  for i in $(seq 0 $((steps - 1))); do
    echo "  s$i:"
    if [ "$i" -ge 10 ] && [ $((i % 10)) -eq 0 ]; then
      echo "    needs: [s$((i - 1)), s$((i - 10))]"
    elif [ "$i" -gt 0 ]; then
      echo "    needs: [s$((i - 1))]"
    fi
    echo "    run: ./apply $i"
    echo "    rollback: ./revert $i"
  done
} > "$plan"
size=$(wc -c < "$plan")
"$REHEARSE_BIN" check --quiet "$plan" >/dev/null
full=$(median_ms 5 "$REHEARSE_BIN" check "$plan")
quiet=$(median_ms 5 "$REHEARSE_BIN" check --quiet "$plan")
rss=$( { /usr/bin/time -f '%M' "$REHEARSE_BIN" check --quiet "$plan" >/dev/null; } 2>&1 | tail -n 1)
echo "check, $steps steps ($((size / 1024)) KiB of YAML), median of 5 runs:"
echo "  rehearse check --quiet   ${quiet} ms   (validation only)"
echo "  rehearse check           ${full} ms   (with the full order listing)"
echo "  peak RSS                 $((rss / 1024)) MiB"

#!/usr/bin/env bash
# Fuzzing the plan parser (issue 14): mutants of every fixture and sample plan, parsed, validated
# and analysed as `check` does. The test suite runs 10,000 of them; this runs more, under several
# seeds, and fails if any mutant crashes the parser, ends as neither a plan nor an error, or takes
# more than 2 s.
# Usage: Benchmarks/fuzz-plans.sh [MUTANTS_PER_SEED] [SEEDS]     (default 50000 and 4)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mutants=${1:-50000}
seeds=${2:-4}
swift build --build-tests >/dev/null
status=0
for seed in $(seq 1 "$seeds"); do
  line=$(REHEARSE_FUZZ_MUTANTS=$mutants REHEARSE_FUZZ_SEED=$seed swift test --skip-build --filter PlanFuzzTests 2>&1 \
    | tee /tmp/rehearse-fuzz-$seed.log | grep -E '^fuzz:' || true)
  if [ -z "$line" ] || grep -q '✘' /tmp/rehearse-fuzz-$seed.log; then
    echo "seed $seed FAILED: see /tmp/rehearse-fuzz-$seed.log"; status=1; continue
  fi
  echo "$line"
  slowest=$(sed -E 's/.*slowest ([0-9.e-]+) seconds.*/\1/' <<<"$line")
  if awk -v s="$slowest" 'BEGIN { exit !(s > 2) }'; then echo "seed $seed: a mutant took ${slowest}s (over 2 s)"; status=1; fi
done
exit $status

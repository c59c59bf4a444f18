#!/usr/bin/env bash
# The fingerprint diff (issue 11), measured on this machine: a 100,000-line fingerprint (3.4 MB)
# taken before and after the rollback, identical, then with three lines changed, removed and
# added. The difference between the two runs' times is what comparing, diffing, writing the
# before, after and diff files and printing the first hunks cost.
# Usage: Benchmarks/fingerprint-diff.sh        (REHEARSE_BIN=path skips the release build)
source "$(dirname "$0")/common.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Rehearsals"
cd "$work"
seq 1 100000 | awk '{ printf "orders %d: %d cents, placed 2026-%02d-%02d\n", $1, ($1 * 37) % 20000, $1 % 12 + 1, $1 % 28 + 1 }' > state.txt
cat > Rehearsals/same.yml <<'YAML'
strategy: custom
targets: { copy: {} }
fingerprint: cat ../state.txt
steps:
  a: { run: 'true', rollback: 'true' }
YAML
# The rollback "forgets" three things: one line changed, one removed, one added.
cat > Rehearsals/lossy.yml <<'YAML'
strategy: custom
targets: { copy: { setup: cp ../state.txt ../copy.txt } }
fingerprint: cat ../copy.txt
steps:
  a:
    run: 'true'
    rollback: ../forget
YAML
cat > forget <<'SH'
#!/bin/sh
sed -i -e 's/^orders 10: .*/orders 10: changed/' -e '/^orders 50000:/d' -e '90000a orders new: 1 cent' ../copy.txt
SH
chmod +x forget
same=$(median_ms 5 "$REHEARSE_BIN" run Rehearsals/same.yml)
lossy=$(median_ms 5 "$REHEARSE_BIN" run Rehearsals/lossy.yml)
out=$("$REHEARSE_BIN" run Rehearsals/lossy.yml || true)
grep -qE "fingerprint: 2 lines removed, 2 added" <<< "$out" || { echo "the lossy rollback was not caught: $out"; exit 1; }
echo "fingerprint of 100,000 lines: identical ${same} ms, 3 differences ${lossy} ms (median of 5 whole runs) -> diff, files and hunks ~$(awk -v a="$lossy" -v b="$same" 'BEGIN { printf "%.0f", a - b }') ms"

#!/usr/bin/env bash
# The cost model of the README's "More than one machine": CPU-hours for the
# paper's whole grokking table (every paper preset, SGD and EGD, S seeds).
#
# Per preset and optimizer it measures the CPU seconds of one epoch (training
# and the per-epoch evaluation, one run on one thread) as the difference of
# the CPU time (user + system) of a 2-epoch and an 8-epoch run divided by 6,
# so start-up cancels and the figure holds on a busy machine too; then it
# multiplies by the epochs each run needs: the paper's epochs to grok plus
# the 5-epoch early-stop window, at most the preset's cap.
#   scripts/cluster/cost-model.sh [SEEDS=3]      (EGD=path/to/egd to skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-3}
if [[ -z "${EGD:-}" ]]; then
  cargo build --release -p egd-bench --bin egd
  EGD=target/release/egd
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
TIMEFORMAT='%U %S'
cpu() { # CPU seconds of `egd grok` for $1 preset, $2 optimizer, $3 epochs
  local t
  t=$({ time "$EGD" grok --preset "$1" --optimizer "$2" --epochs "$3" --early-stop 0 \
    --quiet --out "$work" >/dev/null; } 2>&1)
  awk '{ print $1 + $2 }' <<<"$t"
}
"$EGD" list | awk -F'|' '$2 ~ /paper-/ { gsub(/ /, "", $2); gsub(/ /, "", $8); gsub(/ /, "", $9); print $2, $8, $9 }' |
while read -r preset cap epochs; do
  for o in sgd egd; do
    a=$(cpu "$preset" "$o" 2)
    b=$(cpu "$preset" "$o" 8)
    echo "$preset $o $cap $epochs $a $b"
  done
done > "$work/cpu.txt"
python3 - "$work/cpu.txt" "$seeds" <<'PY'
import sys
seeds = int(sys.argv[2])
total = 0.0
print(f"| preset | optimizer | CPU s/epoch (measured) | epochs per run (paper + 5, ≤ cap) | CPU-hours, {seeds} seeds |")
print("|---|---|---:|---:|---:|")
for line in open(sys.argv[1]):
    preset, opt, cap, epochs, a, b = line.split()
    sgd, egd = (int(x) for x in epochs.split("/"))
    per_epoch = max(float(b) - float(a), 0.0) / 6
    n = min(int(cap), (sgd if opt == "sgd" else egd) + 5)
    h = seeds * n * per_epoch / 3600
    total += h
    print(f"| {preset} | {opt} | {per_epoch:.3f} | {n} | {h:.2f} |")
print(f"| **total** | | | | **{total:.1f}** |")
PY

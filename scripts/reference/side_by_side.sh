#!/usr/bin/env bash
# egd against the paper's protocol in JAX (scripts/reference/egd_reference.py),
# back to back on this machine, and the ratios as a Markdown table.
#
#   bash scripts/reference/side_by_side.sh [SEEDS]      # default 3 seeds
#
# One-core rows: both pinned to core 0 (`taskset -c 0`): the reference's
# jitted steps and LAPACK SVD (median of 30 calls), egd's criterion benches
# (`svd`, `step`; medians). Wall time to grok: each program as a user runs it
# by default (all cores, whole-split evaluation every epoch), seeds
# interleaved (reference seed s, then egd seed s). Not part of CI: it installs
# JAX into target/reference-venv and takes about 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-3}
out=target/side-by-side
rm -rf "$out"
mkdir -p "$out"

py=$(bash scripts/reference/setup.sh | tail -n 1)
cargo build --release -p egd-bench --bin egd
cargo bench -p egd-bench --bench svd --bench step --no-run

echo "== one core: reference steps and SVDs" >&2
taskset -c 0 "$py" scripts/reference/egd_reference.py steps --reps 30 > "$out/reference-steps.jsonl"

echo "== one core: egd criterion benches" >&2
taskset -c 0 cargo bench -p egd-bench --bench svd -- \
  '^polar/f32/(egd_jacobi|faer_svd_uvt)/(512x254|128x128|64x64)$' > "$out/egd-svd.txt"
taskset -c 0 cargo bench -p egd-bench --bench step -- \
  '^step/paper_p127/(polar_w1|sgd_step|egd_step|egd_rsvd128_step|egd_rsvd64_step)/512$' \
  > "$out/egd-step.txt"

echo "== wall time to grok, default threads" >&2
for seed in $(seq 0 $((seeds - 1))); do
  "$py" scripts/reference/egd_reference.py grok --optimizer egd --seed "$seed" --quiet \
    >> "$out/reference-grok.jsonl"
  target/release/egd grok --preset paper-add-127 --optimizer egd --seed "$seed" \
    --epochs 400 --quiet --json --out "$out/egd-runs" | tail -n 1 \
    >> "$out/egd-grok.jsonl"
done

python3 scripts/reference/tabulate.py "$out" target/criterion | tee "$out/table.md"

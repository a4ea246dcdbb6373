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
# interleaved (reference seed s, then egd seed s). Where the CPU has AVX2 and
# FMA, every egd figure is also taken from an x86-64-v3 build of the same
# code (same bits, its own column). Not part of CI: it installs JAX into
# target/reference-venv and takes about 25 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-3}
out=target/side-by-side
rm -rf "$out"
mkdir -p "$out"

py=$(bash scripts/reference/setup.sh | tail -n 1)
cargo build --release -p egd-bench --bin egd
cargo bench -p egd-bench --bench svd --bench step --no-run
# The same code built for x86-64-v3 (AVX2 + FMA; same bits: Rust never
# contracts a * b + c on its own), in its own target directory, where the
# CPU has those features.
v3_dir=$PWD/target/x86-64-v3  # absolute: criterion resolves it from the bench crate
v3=""
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo; then
  v3=1
  v3_run() { RUSTFLAGS="-C target-cpu=x86-64-v3" CARGO_TARGET_DIR=$v3_dir "$@"; }
  v3_run cargo build --release -p egd-bench --bin egd
  v3_run cargo bench -p egd-bench --bench svd --bench step --no-run
fi
svd_filter='^polar/f32/(egd_jacobi|faer_svd_uvt)/(512x254|128x128|64x64)$'
step_filter='^step/paper_p127/(polar_w1|sgd_step|egd_step|egd_rsvd128_step|egd_rsvd64_step)/512$'

echo "== one core: reference steps and SVDs" >&2
taskset -c 0 "$py" scripts/reference/egd_reference.py steps --reps 30 > "$out/reference-steps.jsonl"

echo "== one core: egd criterion benches" >&2
taskset -c 0 cargo bench -p egd-bench --bench svd -- "$svd_filter" > "$out/egd-svd.txt"
taskset -c 0 cargo bench -p egd-bench --bench step -- "$step_filter" > "$out/egd-step.txt"
if [[ -n $v3 ]]; then
  echo "== one core: egd criterion benches, x86-64-v3 build" >&2
  v3_run taskset -c 0 cargo bench -p egd-bench --bench svd -- "$svd_filter" > "$out/egd-v3-svd.txt"
  v3_run taskset -c 0 cargo bench -p egd-bench --bench step -- "$step_filter" > "$out/egd-v3-step.txt"
fi

echo "== wall time to grok, default threads" >&2
for seed in $(seq 0 $((seeds - 1))); do
  "$py" scripts/reference/egd_reference.py grok --optimizer egd --seed "$seed" --quiet \
    >> "$out/reference-grok.jsonl"
  target/release/egd grok --preset paper-add-127 --optimizer egd --seed "$seed" \
    --epochs 400 --quiet --json --out "$out/egd-runs" | tail -n 1 \
    >> "$out/egd-grok.jsonl"
  if [[ -n $v3 ]]; then
    "$v3_dir/release/egd" grok --preset paper-add-127 --optimizer egd --seed "$seed" \
      --epochs 400 --quiet --json --out "$out/egd-v3-runs" | tail -n 1 \
      >> "$out/egd-v3-grok.jsonl"
  fi
done

python3 scripts/reference/tabulate.py "$out" target/criterion ${v3:+"$v3_dir/criterion"} |
  tee "$out/table.md"

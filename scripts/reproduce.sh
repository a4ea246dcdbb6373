#!/usr/bin/env bash
# Regenerates the README's "Reproduction" table: the paper's modular-arithmetic
# configurations (two-hot input, hidden 512, He init, SGD lr 0.7, batch 512,
# wd 1e-4 as L2, EGD on W1 with the Clamp(1e-6) cutoff, 50 % split) and sparse
# parity k = 3. JSON lines land in runs/repro/*.json, curves, plots and tables
# in runs/repro/. Two streams in parallel, about 25 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p egd-bench --bin egd
egd=target/release/egd
out=runs/repro
mkdir -p "$out"

# Stream A: the long vanilla-SGD run at p = 127 (one seed), then EGD at p = 127.
(
  $egd grok --preset paper-add-127 --optimizer sgd --epochs 5000 --early-stop 1 \
    --quiet --json --out "$out" | tail -n 1 > "$out/sgd-add-127.json"
  for preset in paper-add-127 paper-mul-127; do
    $egd compare --preset "$preset" --optimizers egd --seeds 3 --epochs 400 \
      --json --out "$out" | tail -n 1 > "$out/egd-${preset#paper-}.json"
  done
) &

# Stream B: SGD vs EGD at p = 97 in one comparison (the README's plot), EGD at
# p = 97 over 3 seeds, column norm at p = 127, sparse parity k = 3.
(
  $egd compare --preset paper-add-97 --optimizers sgd,egd --seeds 1 --epochs 6800 \
    --json --out "$out/p97" | tail -n 1 > "$out/compare-add-97.json"
  for preset in paper-add-97 paper-mul-97; do
    $egd compare --preset "$preset" --optimizers egd --seeds 3 --epochs 400 \
      --json --out "$out" | tail -n 1 > "$out/egd-${preset#paper-}.json"
  done
  $egd compare --preset paper-add-127 --optimizers colnorm --seeds 3 --epochs 600 \
    --json --out "$out" | tail -n 1 > "$out/colnorm-add-127.json"
  $egd compare --preset paper-parity-3 --optimizers sgd,egd --seeds 3 \
    --json --out "$out" | tail -n 1 > "$out/parity-3.json"
) &

wait
echo "done: $out"

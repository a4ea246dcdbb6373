#!/usr/bin/env bash
# Regenerates the README's "Reproduction" table: the paper's modular-arithmetic
# configurations (two-hot input, hidden 512, He init, SGD lr 0.7, batch 512,
# wd 1e-4 as L2, EGD on W1 with the Clamp(1e-6) cutoff, 50 % split) and sparse
# parity k = 2, 3, 4, as `egd compare` run lists (below), each split into N
# shards.
#
#   scripts/reproduce.sh                 this machine: N = number of cores, the
#                                        shards in parallel, then `report`
#   scripts/reproduce.sh shard I N       shard I (0-based) of every run list
#   scripts/reproduce.sh report          merge: tables, plots, curves and the
#                                        JSON that scripts/repro_table.py reads
#
# Every run list writes to runs/repro/NAME/ (EGD_REPRO_OUT overrides
# runs/repro): one results file per shard, merged by `egd report`. A shard
# that is killed or pre-empted is simply run again: finished runs are skipped.
#
# GNU parallel (one many-core box, or ssh hosts sharing this directory):
#   parallel [-S host1,host2 --workdir "$PWD"] scripts/reproduce.sh shard {} 8 ::: {0..7}
#   scripts/reproduce.sh report
# Slurm (a job array, then the report once every task has succeeded):
#   jid=$(sbatch --parsable --array=0-7 --output=runs/repro/slurm-%A_%a.log \
#     --wrap 'scripts/reproduce.sh shard $SLURM_ARRAY_TASK_ID 8')
#   sbatch --dependency=afterok:$jid --wrap 'scripts/reproduce.sh report'
set -euo pipefail
cd "$(dirname "$0")/.."
out=${EGD_REPRO_OUT:-runs/repro}
egd=${EGD:-target/release/egd}

# NAME|egd arguments: every cell of the paper's modular-arithmetic table
# (p = 79, 97, 127; add and mul; vanilla SGD, EGD, EGD-RSVD r = 128 and 64,
# column norm) and of sparse parity k = 2, 3, 4 (vanilla SGD, EGD), plus our
# own rows on the same tasks: Newton-Schulz x5 (egd-ns, Muon's direction) and
# Grokfast-EMA. Three seeds per cell; a vanilla-SGD cell that takes > 5 000
# epochs in the paper (p = 79 and 97, parity k = 2 and 4) runs one seed.
# The paper's cells come first (those that never compute a polar factor
# first of all), our own rows last.
#
# EGD_REPRO_ONLY=REGEX runs (and merges) only the lists whose name matches.
#
# Shard I of list c runs shard (I + c) mod N, so lists of one long run (the
# vanilla SGD ones) land on different shards.
lists=(
  "sgd-add-79|compare --preset paper-add-79 --optimizers sgd --seeds 1 --epochs 15000 --early-stop 1"
  "sgd-mul-79|compare --preset paper-mul-79 --optimizers sgd --seeds 1 --epochs 15000 --early-stop 1"
  "sgd-add-97|compare --preset paper-add-97 --optimizers sgd --seeds 1 --epochs 15000 --early-stop 1"
  "sgd-mul-97|compare --preset paper-mul-97 --optimizers sgd --seeds 1 --epochs 15000 --early-stop 1"
  "sgd-add-127|compare --preset paper-add-127 --optimizers sgd --seeds 3 --epochs 4000 --early-stop 1"
  "sgd-mul-127|compare --preset paper-mul-127 --optimizers sgd --seeds 3 --epochs 4000 --early-stop 1"
  "colnorm-add-79|compare --preset paper-add-79 --optimizers colnorm --seeds 3 --epochs 2000"
  "colnorm-mul-79|compare --preset paper-mul-79 --optimizers colnorm --seeds 3 --epochs 2000"
  "colnorm-add-97|compare --preset paper-add-97 --optimizers colnorm --seeds 3 --epochs 2000"
  "colnorm-mul-97|compare --preset paper-mul-97 --optimizers colnorm --seeds 3 --epochs 2000"
  "colnorm-add-127|compare --preset paper-add-127 --optimizers colnorm --seeds 3 --epochs 2000"
  "colnorm-mul-127|compare --preset paper-mul-127 --optimizers colnorm --seeds 3 --epochs 2000"
  "parity2-sgd|compare --preset paper-parity-2 --optimizers sgd --seeds 1 --early-stop 1"
  "parity3-sgd|compare --preset paper-parity-3 --optimizers sgd --seeds 3 --early-stop 1"
  "parity4-sgd|compare --preset paper-parity-4 --optimizers sgd --seeds 1 --early-stop 1"
  "egd-add-79|compare --preset paper-add-79 --optimizers egd --seeds 3 --epochs 600"
  "egd-mul-79|compare --preset paper-mul-79 --optimizers egd --seeds 3 --epochs 600"
  "egd-add-97|compare --preset paper-add-97 --optimizers egd --seeds 3 --epochs 600"
  "egd-mul-97|compare --preset paper-mul-97 --optimizers egd --seeds 3 --epochs 600"
  "egd-add-127|compare --preset paper-add-127 --optimizers egd --seeds 3 --epochs 600"
  "egd-mul-127|compare --preset paper-mul-127 --optimizers egd --seeds 3 --epochs 600"
  "rsvd128-add-79|compare --preset paper-add-79 --optimizers egd-rsvd --rank 128 --seeds 3 --epochs 800"
  "rsvd128-mul-79|compare --preset paper-mul-79 --optimizers egd-rsvd --rank 128 --seeds 3 --epochs 800"
  "rsvd128-add-97|compare --preset paper-add-97 --optimizers egd-rsvd --rank 128 --seeds 3 --epochs 800"
  "rsvd128-mul-97|compare --preset paper-mul-97 --optimizers egd-rsvd --rank 128 --seeds 3 --epochs 800"
  "rsvd128-add-127|compare --preset paper-add-127 --optimizers egd-rsvd --rank 128 --seeds 3 --epochs 800"
  "rsvd128-mul-127|compare --preset paper-mul-127 --optimizers egd-rsvd --rank 128 --seeds 3 --epochs 800"
  "rsvd64-add-79|compare --preset paper-add-79 --optimizers egd-rsvd --rank 64 --seeds 3 --epochs 1200"
  "rsvd64-mul-79|compare --preset paper-mul-79 --optimizers egd-rsvd --rank 64 --seeds 3 --epochs 1200"
  "rsvd64-add-97|compare --preset paper-add-97 --optimizers egd-rsvd --rank 64 --seeds 3 --epochs 1200"
  "rsvd64-mul-97|compare --preset paper-mul-97 --optimizers egd-rsvd --rank 64 --seeds 3 --epochs 1200"
  "rsvd64-add-127|compare --preset paper-add-127 --optimizers egd-rsvd --rank 64 --seeds 3 --epochs 1200"
  "rsvd64-mul-127|compare --preset paper-mul-127 --optimizers egd-rsvd --rank 64 --seeds 3 --epochs 1200"
  "parity2-egd|compare --preset paper-parity-2 --optimizers egd,egd-ns --seeds 3"
  "parity3-egd|compare --preset paper-parity-3 --optimizers egd,egd-ns --seeds 3"
  "parity4-egd|compare --preset paper-parity-4 --optimizers egd,egd-ns --seeds 3"
  "ns5-add-79|compare --preset paper-add-79 --optimizers egd-ns --seeds 3 --epochs 1200"
  "ns5-mul-79|compare --preset paper-mul-79 --optimizers egd-ns --seeds 3 --epochs 1200"
  "ns5-add-97|compare --preset paper-add-97 --optimizers egd-ns --seeds 3 --epochs 1200"
  "ns5-mul-97|compare --preset paper-mul-97 --optimizers egd-ns --seeds 3 --epochs 1200"
  "ns5-add-127|compare --preset paper-add-127 --optimizers egd-ns --seeds 3 --epochs 1200"
  "ns5-mul-127|compare --preset paper-mul-127 --optimizers egd-ns --seeds 3 --epochs 1200"
  "grokfast-add-79|compare --preset paper-add-79 --optimizers grokfast --seeds 3 --epochs 3000"
  "grokfast-mul-79|compare --preset paper-mul-79 --optimizers grokfast --seeds 3 --epochs 3000"
  "grokfast-add-97|compare --preset paper-add-97 --optimizers grokfast --seeds 3 --epochs 3000"
  "grokfast-mul-97|compare --preset paper-mul-97 --optimizers grokfast --seeds 3 --epochs 3000"
  "grokfast-add-127|compare --preset paper-add-127 --optimizers grokfast --seeds 3 --epochs 3000"
  "grokfast-mul-127|compare --preset paper-mul-127 --optimizers grokfast --seeds 3 --epochs 3000"
  "parity2-grokfast|compare --preset paper-parity-2 --optimizers grokfast --seeds 3"
  "parity3-grokfast|compare --preset paper-parity-3 --optimizers grokfast --seeds 3"
  "parity4-grokfast|compare --preset paper-parity-4 --optimizers grokfast --seeds 3"
)

selected() {
  [[ -z "${EGD_REPRO_ONLY:-}" || $1 =~ ${EGD_REPRO_ONLY} ]]
}

build() {
  if [[ -z "${EGD:-}" ]]; then
    cargo build --release -p egd-bench --bin egd
  fi
}

shard() {
  local i=$1 n=$2 c=0
  for entry in "${lists[@]}"; do
    local name=${entry%%|*} args=${entry#*|}
    if ! selected "$name"; then c=$((c + 1)); continue; fi
    # shellcheck disable=SC2086 # $args is a list of egd arguments
    "$egd" $args --shard "$(((i + c) % n))/$n" --jobs 1 --quiet --out "$out/$name"
    c=$((c + 1))
  done
}

report() {
  for entry in "${lists[@]}"; do
    local name=${entry%%|*}
    selected "$name" || continue
    "$egd" report "$out/$name" --json | tail -n 1 > "$out/$name.json"
    echo "merged $out/$name -> $out/$name.json"
  done
  echo "done: $out (print the table with: python3 scripts/repro_table.py $out)"
}

case "${1:-all}" in
  shard)
    [[ $# -eq 3 ]] || { echo "usage: $0 shard I N" >&2; exit 2; }
    build
    shard "$2" "$3"
    ;;
  report)
    report
    ;;
  all)
    build
    n=$(nproc)
    pids=()
    for ((i = 0; i < n; i++)); do
      shard "$i" "$n" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    report
    ;;
  *)
    echo "usage: $0 [shard I N | report]" >&2
    exit 2
    ;;
esac

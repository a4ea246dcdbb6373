#!/usr/bin/env bash
# Tests the sharded path with GNU parallel, as a user would run it: an
# `egd compare` split into 3 shards run by `parallel`, one shard killed
# mid-run (SIGKILL: nothing is flushed) and resubmitted, then merged with
# `egd report`; the table must equal the unsharded run's (timings aside).
# Needs GNU parallel (apt-get install parallel). About a minute on 2 cores.
#   scripts/cluster/test-parallel.sh        (EGD=path/to/egd to skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v parallel >/dev/null || { echo "test-parallel: GNU parallel is not installed" >&2; exit 1; }
if [[ -z "${EGD:-}" ]]; then
  cargo build --release -p egd-bench --bin egd
  EGD=target/release/egd
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(compare --preset smoke-add-47 --optimizers sgd,egd --seeds 3 --epochs 70 --jobs 1 --quiet)
stem=compare_smoke-add-47_sgd-egd_3seeds

"$EGD" "${args[@]}" --out "$work/whole" >/dev/null

# Shard 2 is killed outright once its first run is recorded.
"$EGD" "${args[@]}" --shard 2/3 --out "$work/shards" >/dev/null &
pid=$!
until compgen -G "$work/shards/results_*shard2of3.jsonl" >/dev/null &&
      [[ -s $(compgen -G "$work/shards/results_*shard2of3.jsonl") ]]; do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if "$EGD" report "$work/shards" >/dev/null 2>&1; then
  echo "test-parallel: report accepted an incomplete set of shards" >&2
  exit 1
fi

# The README's one-liner: every shard (the killed one resumes), then report.
parallel --halt now,fail=1 "$EGD" "${args[@]}" --shard {}/3 --out "$work/shards" ::: 0 1 2 >/dev/null
"$EGD" report "$work/shards" >/dev/null
scripts/cluster/same-table.sh "$work/whole/$stem.md" "$work/shards/$stem.md"
echo "test-parallel: OK"

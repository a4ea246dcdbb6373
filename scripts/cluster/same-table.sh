#!/usr/bin/env bash
# Checks that two egd Markdown tables (.md) are the same apart from timings:
# columns whose header names ms/step or time are blanked before comparing.
# Used by the cluster tests to compare a merged report with an unsharded run.
#   scripts/cluster/same-table.sh A.md B.md
set -euo pipefail
mask() {
  awk -F'|' -v OFS='|' '
    /^\| optimizer/ { delete t; for (i = 1; i <= NF; i++) if ($i ~ /ms\/step|time/) t[i] = 1 }
    /^\|/ { for (i in t) $i = "*"; print; next }
    NF { print }' "$1"
}
if diff <(mask "$1") <(mask "$2"); then
  echo "same table (timings aside): $1 and $2"
else
  echo "tables differ: $1 vs $2" >&2
  exit 1
fi

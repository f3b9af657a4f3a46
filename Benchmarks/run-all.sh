#!/usr/bin/env bash
# Run every benchmark found as Benchmarks/*/run.sh, one after another, with default arguments
# (each script's own environment knobs still apply). Logs go to Benchmarks/work/<name>.log.
# Exit status: number of benchmarks that failed (0 = all ran).
#
#   Benchmarks/run-all.sh [NAME...]     (default: all, in name order)
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$HERE/work"
mkdir -p "$WORK"

if [ "$#" -gt 0 ]; then
  names=("$@")
else
  names=()
  for s in "$HERE"/*/run.sh; do
    [ -e "$s" ] || continue
    names+=("$(basename "$(dirname "$s")")")
  done
fi

failed=0
for name in "${names[@]}"; do
  script="$HERE/$name/run.sh"
  if [ ! -f "$script" ]; then
    echo "== $name: no $script" >&2
    failed=$((failed + 1))
    continue
  fi
  echo "== $name ($(date -u +%H:%M:%S) UTC)"
  start=$(date +%s)
  if bash "$script" 2>&1 | tee "$WORK/$name.log"; then
    echo "== $name: ok in $(( $(date +%s) - start ))s (log: $WORK/$name.log)"
  else
    echo "== $name: FAILED after $(( $(date +%s) - start ))s (log: $WORK/$name.log)" >&2
    failed=$((failed + 1))
  fi
done
exit "$failed"

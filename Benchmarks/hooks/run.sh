#!/usr/bin/env bash
# Pre-commit latency benchmark: `sealant scan --staged` vs `gitleaks git --pre-commit --staged` vs
# `kingfisher scan --staged --no-validate`, on a staged change of 4 files in a large repository.
#
#   Benchmarks/hooks/run.sh
#
# Environment knobs:
#   RUNS=20                timed runs per tool and scenario (round-robin); median and p90 reported
#   FILES=60000 COMMITS=3000 SEED=1   the generated repository (same values = same commit ids)
#   TOOLS=sealant,gitleaks,kingfisher
#   SEALANT=path           sealant binary (default: <repo>/.build/release/sealant, built if missing)
#   NO_BUILD=1             never run `swift build`
#
# Output: the table on stdout and in Benchmarks/work/hooks-results.md (+ .json).
set -euo pipefail

RUNS="${RUNS:-20}"
FILES="${FILES:-60000}"
COMMITS="${COMMITS:-3000}"
SEED="${SEED:-1}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BENCH=hooks

. "$ROOT/Benchmarks/common.sh"
bench_need_peers
bench_need_sealant

# --- repository (generated once per size+seed+generator) -----------------------------------------
GENV="$(sha256sum "$HERE/make_repo.py" | cut -c1-8)"
REPO="$WORK/hooks-repo-${FILES}f-${COMMITS}c-seed${SEED}-${GENV}"
if [ ! -f "$REPO.complete" ]; then
  rm -rf "$WORK"/hooks-repo-"${FILES}f-${COMMITS}c-seed${SEED}"-*
  mkdir -p "$WORK"
  log "generating repository ($FILES files, $COMMITS commits, seed $SEED) into $REPO"
  "$PY" "$HERE/make_repo.py" "$REPO" --files "$FILES" --commits "$COMMITS" --seed "$SEED"
  touch "$REPO.complete"
fi

RUNDIR="$WORK/hooks-runs-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUNDIR"
# No user or system config (hooks, fsmonitor, aliases) and a private sealant cache.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null XDG_CACHE_HOME="$WORK/hooks-cache" NO_COLOR=1
# Kingfisher's --staged runs `git commit-tree`, which needs an identity (without one it fails and exits 0).
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
log "tools: $TOOLS; runs: $RUNS"
status=0
"$PY" "$HERE/bench.py" --repo "$REPO" --runs "$RUNS" --tools "$TOOLS" --sealant "$SEALANT" \
  --work "$RUNDIR" --out "$RUNDIR/hooks-results.md" || status=$?
cp "$RUNDIR/hooks-results.md" "$WORK/hooks-results.md"
cp "$RUNDIR/hooks-results.json" "$WORK/hooks-results.json"
log "results: $WORK/hooks-results.md (this run: $RUNDIR)"
exit "$status"

#!/usr/bin/env bash
# Full-history benchmark: sealant scan (blob mode) vs gitleaks git vs kingfisher scan --no-validate.
#
#   Benchmarks/history/run.sh                 a synthetic history (COMMITS=20000), generated once
#   Benchmarks/history/run.sh REPO [REPO...]  any repositories (bare or not), e.g. a clone of git/git
#
# Environment knobs:
#   RUNS=1            timed runs per tool and repository (interleaved); medians are reported
#   COMMITS=20000     size of the synthetic history (Fixtures/git/make-synthetic-history.sh)
#   TOOLS=sealant,gitleaks,kingfisher
#   SEALANT=path      sealant binary (default: <repo>/.build/release/sealant, built if missing)
#   NO_BUILD=1        never run `swift build`
#   FLOOR=1           also time `git cat-file --batch-all-objects --batch` (reading every object once)
#   DIFF=1            sealant in diff mode (--diff: the lines each commit adds, as gitleaks reads them)
#   RANGE=A..B        only the commits of A..B (sealant --range, gitleaks --log-opts; set TOOLS=sealant,gitleaks)
#   EXHAUSTIVE=1      with DIFF or RANGE: sealant --exhaustive-diff (diff every commit, no prefilter)
#
# Output: one table per repository on stdout and in Benchmarks/work/history-results-<name>.md;
# reports, logs and timings in Benchmarks/work/history-runs-<name>-<UTC timestamp>/.
set -euo pipefail

RUNS="${RUNS:-1}"
COMMITS="${COMMITS:-20000}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BENCH=history

. "$ROOT/Benchmarks/common.sh"
bench_need_time
bench_need_peers
bench_need_sealant
mkdir -p "$WORK"

repos=("$@")
planted=()
if [ "${#repos[@]}" -eq 0 ]; then
  GENV="$(sha256sum "$ROOT/Fixtures/git/make-synthetic-history.sh" | cut -c1-8)"
  SYN="$WORK/history-synthetic-${COMMITS}-${GENV}"
  if [ ! -f "$SYN/.complete" ]; then
    rm -rf "$WORK/history-synthetic-${COMMITS}"-*
    log "generating a synthetic history of $COMMITS commits into $SYN"
    bash "$ROOT/Fixtures/git/make-synthetic-history.sh" "$COMMITS" "$SYN.tmp" >&2
    mv "$SYN.tmp" "$SYN"
    touch "$SYN/.complete"
  fi
  repos=("$SYN")
fi

for repo in "${repos[@]}"; do
  [ -d "$repo" ] || { log "no repository at $repo"; exit 2; }
  name="$(basename "$(cd "$repo" && pwd)")"; name="${name%.git}"
  rundir="$WORK/history-runs-$name-$(date -u +%Y%m%dT%H%M%SZ)"
  extra=()
  [ -f "$repo/.git/planted-secrets.tsv" ] && extra+=(--planted "$repo/.git/planted-secrets.tsv")
  [ -n "${FLOOR:-}" ] && extra+=(--floor)
  [ -n "${DIFF:-}" ] && extra+=(--diff)
  [ -n "${RANGE:-}" ] && extra+=(--range "$RANGE")
  [ -n "${EXHAUSTIVE:-}" ] && extra+=(--exhaustive-diff)
  log "$repo: tools $TOOLS, runs $RUNS"
  "$PY" "$HERE/history.py" --repo "$repo" --runs "$RUNS" --tools "$TOOLS" --sealant "$SEALANT" \
    --work "$rundir" --out "$rundir/history-results.md" "${extra[@]}"
  cp "$rundir/history-results.md" "$WORK/history-results-$name.md"
  log "results: $WORK/history-results-$name.md (this run: $rundir)"
done

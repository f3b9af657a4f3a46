#!/usr/bin/env bash
# File-scanning benchmark: sealant scan --no-git vs gitleaks dir vs kingfisher scan --git-history none.
#
#   Benchmarks/detect/run.sh [SIZE_MB]        (default 512)
#
# Environment knobs:
#   RUNS=3                 timed runs per tool (interleaved); medians are reported
#   SEED=1                 corpus seed (same seed + size = byte-identical corpus)
#   TOOLS=sealant,gitleaks,kingfisher   which tools to run (sealant is dropped with a warning
#                          when its binary or `sealant scan` is unavailable)
#   SEALANT=path           sealant binary (default: <repo>/.build/release/sealant, built if missing)
#   NO_BUILD=1             never run `swift build`
#   SEALANT_CONFIG=file    rules file for sealant (-c); default: its built-in rules
#   SEALANT_RULES_BRANCHES="rules-a rules-b"   instead, concatenate patterns/*.toml committed on
#                          these branches (name order; first branch wins on equal names) into
#                          <run dir>/sealant-rules.toml and use that (rules not yet on main)
#
# Output: the results table on stdout and in Benchmarks/work/detect-results.md (+ .json).
set -euo pipefail

SIZE_MB="${1:-512}"
RUNS="${RUNS:-3}"
SEED="${SEED:-1}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BENCH=detect

# --- prerequisites ------------------------------------------------------------------------------
. "$ROOT/Benchmarks/common.sh"
bench_need_time
bench_need_peers
bench_need_sealant

RUNDIR="$WORK/detect-runs-${SIZE_MB}mb-$(date -u +%Y%m%dT%H%M%SZ)"   # reports, logs, timings of this run
mkdir -p "$RUNDIR"

if [ -n "${SEALANT_RULES_BRANCHES:-}" ]; then
  SEALANT_CONFIG="$RUNDIR/sealant-rules.toml"
  "$PY" - "$ROOT" "$SEALANT_CONFIG" $SEALANT_RULES_BRANCHES <<'PYEOF'
import subprocess, sys
root, out, branches = sys.argv[1], sys.argv[2], sys.argv[3:]
files = {}
for b in branches:
    sha = subprocess.run(["git", "-C", root, "rev-parse", "--short", b], capture_output=True, text=True, check=True).stdout.strip()
    names = subprocess.run(["git", "-C", root, "ls-tree", "--name-only", b, "patterns/"], capture_output=True, text=True, check=True).stdout.split()
    for n in names:
        if n.endswith(".toml") and n not in files:
            files[n] = (b, sha)
with open(out, "w") as f:
    for n in sorted(files):
        b, sha = files[n]
        f.write(f"# ---- {n} from {b} @ {sha}\n")
        f.write(subprocess.run(["git", "-C", root, "show", f"{b}:{n}"], capture_output=True, text=True, check=True).stdout)
        f.write("\n")
print(f"sealant rules: {len(files)} files from {' '.join(branches)} -> {out}", file=sys.stderr)
PYEOF
fi

# --- corpus (generated once per size+seed) ------------------------------------------------------
GENV="$(sha256sum "$HERE/make_corpus.py" | cut -c1-8)"   # new generator => new corpus
CORPUS="$WORK/corpus-${SIZE_MB}mb-seed${SEED}-${GENV}"
if [ ! -f "$CORPUS/.complete" ]; then
  rm -rf "$WORK/corpus-${SIZE_MB}mb-seed${SEED}"-*   # stale corpora of an older generator
  mkdir -p "$WORK"
  log "generating ${SIZE_MB} MB corpus (seed $SEED) into $CORPUS"
  "$PY" "$HERE/make_corpus.py" "$SIZE_MB" "$CORPUS.tmp" --seed "$SEED"
  mv "$CORPUS.tmp" "$CORPUS"
  touch "$CORPUS/.complete"
fi

# --- run + score --------------------------------------------------------------------------------
log "tools: $TOOLS; runs: $RUNS"
"$PY" "$HERE/bench.py" --corpus "$CORPUS" --runs "$RUNS" --tools "$TOOLS" --sealant "$SEALANT" \
  ${SEALANT_CONFIG:+--sealant-config "$SEALANT_CONFIG"} --work "$RUNDIR" --out "$RUNDIR/detect-results.md"
cp "$RUNDIR/detect-results.md" "$WORK/detect-results.md"
cp "$RUNDIR/detect-results.json" "$WORK/detect-results.json"
log "results: $WORK/detect-results.md (this run: $RUNDIR)"

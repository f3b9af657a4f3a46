#!/usr/bin/env bash
# Controller benchmark (not run by CI):
#  1. 5,000 SealedSecrets through the stand-in API server (Tests/ControllerTests/StandInAPIServer.swift), in
#     Secrets/s, next to the RSA-4096 decrypt limit measured in the same process on the same cores;
#  2. POST /v1/verify under bounded load on loopback with wrk: requests/s and latency percentiles.
# Usage: Benchmarks/controller/run.sh [count] [wrk-seconds]
# The reconcile part reads SEALANT_BENCHMARK_WORKERS (default 4) and SEALANT_BENCHMARK_QPS (the client-side
# --kubeclient-qps token bucket, default 2000, burst twice that; upstream's 5/10 would cap it at a few Secrets/s).
# The stand-in API server runs inside the test process, so its CPU is counted with the controller's.
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT="${1:-5000}"
DURATION="${2:-15}"
OUT=Benchmarks/work/controller
mkdir -p "$OUT"
# Release build in its own scratch folder (.build-release is git-ignored); -enable-testing for @testable imports.
SWIFT_FLAGS=(-c release --scratch-path .build-release -Xswiftc -enable-testing)
swift build "${SWIFT_FLAGS[@]}" --build-tests >/dev/null

echo "== reconcile $COUNT SealedSecrets through the stand-in API server ($(uptime | sed "s/.*load/load/"))"
SEALANT_BENCHMARK=1 SEALANT_BENCHMARK_COUNT="$COUNT" swift test "${SWIFT_FLAGS[@]}" --skip-build --filter ReconcilerBenchmark 2>&1 | grep -E "^BENCH|passed|failed" | tee "$OUT/reconcile.txt"

echo "== POST /v1/verify with wrk (${DURATION}s, 2 threads, 8 connections; rate limit off)"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
BIN="$(swift build "${SWIFT_FLAGS[@]}" --show-bin-path)/sealant"
KEYS="$OUT/keys"
rm -rf "$KEYS" && mkdir -p "$KEYS"
FIX=Tests/ControllerTests/Fixtures
python3 - "$FIX" "$KEYS" <<'PY'
import base64, sys
fix, keys = sys.argv[1], sys.argv[2]
key = base64.b64encode(open(f"{fix}/key.pem", "rb").read()).decode()
crt = base64.b64encode(open(f"{fix}/cert.pem", "rb").read()).decode()
open(f"{keys}/upstream.yaml", "w").write(f"""apiVersion: v1
kind: Secret
metadata:
  name: upstream
  labels:
    sealedsecrets.bitnami.com/sealed-secrets-key: active
type: kubernetes.io/tls
data:
  tls.crt: {crt}
  tls.key: {key}
""")
PY
PORT=18080
"$BIN" controller --key-dir "$KEYS" --listen-addr "127.0.0.1:$PORT" --listen-metrics-addr 127.0.0.1:18081 \
  --rate-limit 0 --key-renew-period 0 --log-level error &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
cat > "$OUT/verify.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/yaml"
local f = io.open("$FIX/sealedsecret-cluster-wide.yaml", "r")
wrk.body = f:read("*a")
f:close()
LUA
curl -fs -o /dev/null -w "single verify: HTTP %{http_code} in %{time_total}s\n" --data-binary @"$FIX/sealedsecret-cluster-wide.yaml" "http://127.0.0.1:$PORT/v1/verify"
wrk -t2 -c8 -d"${DURATION}s" --latency -s "$OUT/verify.lua" "http://127.0.0.1:$PORT/v1/verify" | tee "$OUT/verify.txt"
echo "items per SealedSecret: $(grep -cE '^    [a-z]+: Ag' "$FIX/sealedsecret-cluster-wide.yaml")"

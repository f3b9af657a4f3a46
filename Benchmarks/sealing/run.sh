#!/usr/bin/env bash
# Times sealant against kubesealpy for sealing and unsealing, next to the RSA-4096 limit.
# Usage: Benchmarks/sealing/run.sh [--values N] [--size BYTES]   (from the package root)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
python3 -c "import kubesealpy" 2>/dev/null || pip install --quiet kubesealpy
make -s release
bin=$(swift build -c release --show-bin-path)/sealant
python3 Benchmarks/sealing/bench.py "$bin" "$root/Benchmarks/work/sealing" "$@"

#!/usr/bin/env bash
# Issue 5 on the GPU machine in one call (see /work/.library/device/README.md):
#   here:   bash scripts/pack_device_deps.sh          (nanobind + CLI11 into .devdeps/, git-ignored)
#   device: run(command="bash bench/attention_device.sh", carry=[".devdeps"], timeout_s=600)
#           run(command="bash bench/attention_device.sh --quick", carry=[".devdeps"], timeout_s=300)
# Builds the Python extension (bench/device_build.sh, into $MT_DEVICE_BUILD, kept while the machine is warm),
# then bench/attention_bench.py and bench/newton_schulz_bench.py (mini_triton vs Triton on the same kernel text vs
# torch; each checks its results against float64).
#   -> $OUT: attention_bf16.json/.png newton_schulz_bf16.json/.png attention_bench.log newton_schulz_bench.log
#            (build.log only when the build fails)
# Extra arguments (e.g. --quick) go to both scripts. Exit status: 0 when both passed.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/device-out}
BUILD=${MT_DEVICE_BUILD:-/tmp/mt-device-build}
mkdir -p "$OUT"
cd "$ROOT"
FAILED=0
step() { # step NAME RC
  if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1 (rc $2)"; FAILED=1; fi
}

source bench/device_build.sh
rm -f "$OUT/build.log"

for name in attention newton_schulz; do
  timeout 280 python3 "bench/${name}_bench.py" --out "$OUT" "$@" >"$OUT/${name}_bench.log" 2>&1
  step "bench/${name}_bench.py $*" $?
  grep -v '^notice' "$OUT/${name}_bench.log" | tail -14
done
exit $FAILED

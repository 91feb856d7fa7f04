#!/usr/bin/env bash
# Runs a command on the GPU machine with the Python package built (see /work/.library/device/README.md):
#   here:   bash scripts/pack_device_deps.sh          (nanobind + CLI11 into .devdeps/, git-ignored)
#   device: run(command="bash bench/device_run.sh 'python3 bench/matmul_bench.py --out \$OUT'", carry=[".devdeps"])
# Builds mini_triton._C (bench/device_build.sh, into $MT_DEVICE_BUILD, kept while the machine is warm), then runs each argument with bash -c, in order, printing PASS/FAIL
# lines; more than 8 files under $OUT come back as one results.tar.gz. Exit status: 0 when all passed.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OUT=${OUT:-$ROOT/device-out}
BUILD=${MT_DEVICE_BUILD:-/tmp/mt-device-build}
mkdir -p "$OUT"
cd "$ROOT"
source bench/device_build.sh
rm -f "$OUT/build.log"
FAILED=0
for cmd in "$@"; do
  echo "== $cmd"
  if bash -c "$cmd"; then echo "PASS $cmd"; else echo "FAIL $cmd (rc $?)"; FAILED=1; fi
done
# The device tool returns at most 8 files: more than that go back as one archive (results.tar.gz, the
# folders kept), to unpack here with `tar xzf`.
if [ "$(find "$OUT" -type f | wc -l)" -gt 8 ]; then
  (cd "$OUT" && tar czf /tmp/mt-results.tar.gz . && find . -mindepth 1 -delete && mv /tmp/mt-results.tar.gz results.tar.gz)
  echo "more than 8 files: packed into \$OUT/results.tar.gz"
fi
exit $FAILED

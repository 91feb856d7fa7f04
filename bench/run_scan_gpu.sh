#!/usr/bin/env bash
# Every GPU step of the scan / MinGRU work in one call on the device machine; results land in $OUT:
#   pytest_scan_gpu.log   python/tests/test_scan_gpu.py (CUDA tensors vs float64, > 2^31 elements, Triton twin)
#   scan_bench.{json,png,log}       bench/scan_bench.py      (seed-002 efficiency grid, fwd + bwd, vs Triton, torch)
#   scan_precision.{json,png,log}   bench/scan_precision.py  (seeds 3407/4/42/57, fp32/bf16/fp16 vs float64)
#   mingru_bench.{json,png,log}     bench/mingru_bench.py    (MinGRU fwd+bwd vs PyTorch)
#   prefetch_ab.{json,log}          bench/prefetch_ab.py     (loop loads prefetched vs not; only in STEPS)
#   summary.txt
#   scan_results.tar.gz   all of the above in one file (the device tool returns at most 8 files)
# Usage (device tool): run(command="bash bench/run_scan_gpu.sh", carry=[".devdeps"], timeout_s=600)
#   QUICK=1      every 4th / 2nd T and fewer repetitions (about half the time)
#   STEPS="..."  a subset of: build tests scan precision mingru prefetch (default: all but prefetch)
#   SCAN_BENCH_ARGS="..."  more scan_bench.py arguments (e.g. --extra-chunk-configs 16:32:1,32:32:1,16:32:2)
# The Python extension is built into $MT_DEVICE_BUILD (default /tmp/mt-device-build, the folder
# scripts/device_check.sh uses) unless it is there already.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results}
BUILD=${MT_DEVICE_BUILD:-/tmp/mt-device-build}
STEPS=${STEPS:-build tests scan precision mingru}
QUICK_ARG=""
[ "${QUICK:-0}" = 1 ] && QUICK_ARG="--quick"
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
FAILED=0
has() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
step() { # step NAME RC SECONDS
  if [ "$2" -eq 0 ]; then echo "PASS $1 (${3}s)" | tee -a "$SUMMARY"; else echo "FAIL $1 (rc $2, ${3}s)" | tee -a "$SUMMARY"; FAILED=1; fi
}
cd "$ROOT"
{ date -u; nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv 2>&1; } | tee -a "$SUMMARY"

if ! python3 -m nanobind --cmake_dir >/dev/null 2>&1 && [ -d "$ROOT/.devdeps/py/nanobind" ]; then
  export PYTHONPATH="$ROOT/.devdeps/py${PYTHONPATH:+:$PYTHONPATH}"
fi
if has build && ! ls "$BUILD"/python/mini_triton/_C*.so >/dev/null 2>&1; then
  S=$SECONDS
  GEN=(-G Ninja)
  command -v ninja >/dev/null || GEN=(-G "Unix Makefiles")
  { cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMT_BUILD_TESTS=OFF &&
    cmake --build "$BUILD" -j"${JOBS:-16}" --target _C; } >"$OUT/build.log" 2>&1
  RC=$?
  step "build _C" $RC $((SECONDS - S))
  [ $RC -eq 0 ] || { tail -30 "$OUT/build.log"; exit 1; }
fi
export PYTHONPATH="$ROOT/python:$BUILD/python${PYTHONPATH:+:$PYTHONPATH}"
export MINI_TRITON_BUILD_DIR="$BUILD/python"
export OUT

if has tests; then
  S=$SECONDS
  timeout 150 python3 -m pytest -q -rs -m gpu python/tests/test_scan_gpu.py >"$OUT/pytest_scan_gpu.log" 2>&1
  step "pytest test_scan_gpu.py" $? $((SECONDS - S))
  tail -3 "$OUT/pytest_scan_gpu.log" | tee -a "$SUMMARY"
fi
run_bench() { # run_bench NAME TIMEOUT ARGS...
  local name=$1 limit=$2
  shift 2
  local S=$SECONDS
  timeout "$limit" python3 "bench/$name.py" --out "$OUT" "$@" >"$OUT/$name.log" 2>&1
  step "$name $*" $? $((SECONDS - S))
  grep -E "^(summary|ERROR|copy_)" "$OUT/$name.log" | head -12 | tee -a "$SUMMARY"
}
# shellcheck disable=SC2086
has scan && run_bench scan_bench "$([ -n "$QUICK_ARG" ] && echo 230 || echo 420)" $QUICK_ARG ${SCAN_BENCH_ARGS:-}
has precision && run_bench scan_precision 130 $QUICK_ARG
has mingru && run_bench mingru_bench 90 --configs-from "$OUT/scan_bench.json"
has prefetch && run_bench prefetch_ab 300 $QUICK_ARG
# The device tool returns at most 8 files: the logs, JSON and PNG also go into one archive.
tar -czf "$OUT/scan_results.tar.gz" -C "$OUT" --exclude=scan_results.tar.gz . 2>/dev/null
cat "$SUMMARY"
exit $FAILED

#!/usr/bin/env bash
# Runs a command on the GPU machine with the Python package built (see /work/.library/device/README.md):
#   here:   bash scripts/pack_device_deps.sh          (nanobind + CLI11 into .devdeps/, git-ignored)
#   device: run(command="bash bench/device_run.sh 'python3 bench/matmul_bench.py --out \$OUT'", carry=[".devdeps"])
# Builds mini_triton._C like bench/attention_device.sh (into $MT_DEVICE_BUILD, kept while the machine is warm),
# sets PYTHONPATH / MINI_TRITON_BUILD_DIR, then runs each argument with bash -c, in order, printing PASS/FAIL
# lines. Exit status: 0 when all passed.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OUT=${OUT:-$ROOT/device-out}
BUILD=${MT_DEVICE_BUILD:-/tmp/mt-device-build}
mkdir -p "$OUT"
cd "$ROOT"
if ! ls "$BUILD"/python/mini_triton/_C*.so >/dev/null 2>&1; then
  if ! python3 -m nanobind --cmake_dir >/dev/null 2>&1 && [ -d "$ROOT/.devdeps/py/nanobind" ]; then
    export PYTHONPATH="$ROOT/.devdeps/py${PYTHONPATH:+:$PYTHONPATH}"
  fi
  GEN=(-G Ninja)
  command -v ninja >/dev/null || GEN=(-G "Unix Makefiles")
  FLAGS=""
  [ ! -e /usr/include/CLI/CLI.hpp ] && [ -d .devdeps/include/CLI ] && FLAGS="-I$ROOT/.devdeps/include"
  if ! { cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMT_BUILD_TESTS=OFF \
      -DCMAKE_CXX_FLAGS="$FLAGS" && cmake --build "$BUILD" -j16 --target _C; } >"$OUT/build.log" 2>&1; then
    echo "FAIL build mini_triton._C"
    tail -30 "$OUT/build.log"
    exit 1
  fi
  rm -f "$OUT/build.log"
  echo "PASS build mini_triton._C"
fi
export PYTHONPATH="$ROOT/python:$BUILD/python${PYTHONPATH:+:$PYTHONPATH}"
export MINI_TRITON_BUILD_DIR="$BUILD/python" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
FAILED=0
for cmd in "$@"; do
  echo "== $cmd"
  if bash -c "$cmd"; then echo "PASS $cmd"; else echo "FAIL $cmd (rc $?)"; FAILED=1; fi
done
exit $FAILED

#!/usr/bin/env bash
# The GPU check, run on the device machine in one call (see /work/.library/device/README.md):
#   here:   bash scripts/pack_device_deps.sh         (gtest + CLI11 into .devdeps/, git-ignored)
#   device: run(command="bash scripts/device_check.sh", carry=[".devdeps"], timeout_s=600)
# Builds the project (cmake + ninja, -j16), runs the unit tests (the CUDA ones launch kernels when a GPU
# is present), compute-sanitizer (memcheck, racecheck) over the GPU tests and the E2E suite forced onto the
# GPU, the vector-add smoke test through mt-cuda --run, the GPU pytest suite (-m gpu, torch CUDA
# tensors), the memory-bound benchmarks vs Triton (bench/memory_bound.py), and lit if it is installed.
# Files in $OUT (the device tool returns at most 8): summary.txt, nvidia-smi.txt, build.log, tests.log
# (unit tests, smoke, pytest, lit), memory_bound.json + .png, and extra.tar.gz with whatever the optional
# command in $MT_DEVICE_EXTRA (run last, from the repo root, with $EXTRA as its output folder) wrote.
# MT_DEVICE_SKIP=tests skips the unit tests, sanitizers and pytest, =bench the benchmarks, =sanitizer the
# compute-sanitizer runs (comma-separate several). Exit status: 0 when every
# step passed.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/device-out}
BUILD=${MT_DEVICE_BUILD:-/tmp/mt-device-build}
JOBS=${JOBS:-16}
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
FAILED=0
step() { # step NAME RC
  if [ "$2" -eq 0 ]; then echo "PASS $1" | tee -a "$SUMMARY"; else echo "FAIL $1 (rc $2)" | tee -a "$SUMMARY"; FAILED=1; fi
}
cd "$ROOT"
{
  date -u
  uname -a
  nvidia-smi || echo "nvidia-smi failed"
  nvcc --version || echo "no nvcc on PATH"
  g++ --version | head -1
  cmake --version | head -1
} >"$OUT/nvidia-smi.txt" 2>&1

# nanobind for the Python extension: the image's, else the copy pack_device_deps.sh put in .devdeps/py.
if ! python3 -m nanobind --cmake_dir >/dev/null 2>&1 && [ -d "$ROOT/.devdeps/py/nanobind" ]; then
  export PYTHONPATH="$ROOT/.devdeps/py${PYTHONPATH:+:$PYTHONPATH}"
fi
echo "nanobind: $(python3 -m nanobind --cmake_dir 2>&1 | tail -1)" >>"$OUT/nvidia-smi.txt"

GEN=(-G Ninja)
command -v ninja >/dev/null || GEN=(-G "Unix Makefiles")
CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
CXXFLAGS_EXTRA=""
if { [ ! -e /usr/include/CLI/CLI.hpp ] || [ ! -e /usr/include/nlohmann/json.hpp ]; } && [ -d .devdeps/include ]; then
  CXXFLAGS_EXTRA="-I$ROOT/.devdeps/include"
fi
HAVE_GTEST=0
if [ -e /usr/include/gtest/gtest.h ]; then
  HAVE_GTEST=1
elif [ -d .devdeps/googletest ]; then
  {
    cmake -S .devdeps/googletest -B /tmp/gtest-build "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_GMOCK=OFF \
      -DCMAKE_INSTALL_PREFIX=/tmp/gtest-install &&
      cmake --build /tmp/gtest-build -j"$JOBS" && cmake --install /tmp/gtest-build
  } >"$OUT/build.log" 2>&1 && HAVE_GTEST=1 && CMAKE_ARGS+=(-DCMAKE_PREFIX_PATH=/tmp/gtest-install)
fi
[ "$HAVE_GTEST" -eq 1 ] || CMAKE_ARGS+=(-DMT_BUILD_TESTS=OFF)
echo "gtest: $HAVE_GTEST; extra flags: ${CXXFLAGS_EXTRA:-none}" | tee -a "$SUMMARY"

cmake -S . -B "$BUILD" "${GEN[@]}" "${CMAKE_ARGS[@]}" -DCMAKE_CXX_FLAGS="$CXXFLAGS_EXTRA" >>"$OUT/build.log" 2>&1
step configure $?
cmake --build "$BUILD" -j"$JOBS" >>"$OUT/build.log" 2>&1
RC=$?
step build $RC
if [ $RC -ne 0 ]; then
  tail -40 "$OUT/build.log"
  exit 1
fi

SKIP=${MT_DEVICE_SKIP:-}
LOG=$OUT/tests.log
: >"$LOG"
if [ -x "$BUILD/unittests/mt-unittests" ] && [[ "$SKIP" != *tests* ]]; then
  "$BUILD/unittests/mt-unittests" >>"$LOG" 2>&1
  step unittests $?
  grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$LOG" | head -20 | tee -a "$SUMMARY"
  grep -E "^\[  FAILED  \]" "$LOG" | sort -u | head -30
fi

# The C++ end-to-end suite (written for the CPU target) forced onto the GPU, without the tests of the
# interpreter's bounds/overflow checks (an out-of-bounds access on the GPU poisons the CUDA context).
if [ -x "$BUILD/unittests/mt-unittests" ] && [[ "$SKIP" != *tests* ]]; then
  echo "== MINI_TRITON_FORCE_GPU=1 E2E suite" >>"$LOG"
  MINI_TRITON_FORCE_GPU=1 "$BUILD/unittests/mt-unittests" --gtest_filter='E2E*:-E2EErrors.*:E2ELaunch.*' \
    >>"$LOG" 2>&1
  step "E2E suite on the GPU (MINI_TRITON_FORCE_GPU=1)" $?
fi

# compute-sanitizer over the kernels of the GPU unit tests and the E2E suite forced onto the GPU: memcheck
# (out-of-bounds and misaligned accesses) and racecheck (shared-memory hazards: staging, cp.async rings,
# reductions). MT_DEVICE_SKIP=sanitizer skips it.
if [ -x "$BUILD/unittests/mt-unittests" ] && [[ "$SKIP" != *tests* ]] && [[ "$SKIP" != *sanitizer* ]] &&
  command -v compute-sanitizer >/dev/null; then
  # (not CudaTargetGpuCache: it loads a corrupt cubin on purpose, an API error memcheck reports)
  GPU_FILTER='CudaTargetGpu.*:CudaTargetMma*:CudaEmitterTest*'
  E2E_FILTER='E2E*:-E2EErrors.*:E2ELaunch.*'
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool" >>"$LOG"
    timeout 240 compute-sanitizer --tool "$tool" --error-exitcode 3 "$BUILD/unittests/mt-unittests" \
      --gtest_filter="$GPU_FILTER" >>"$LOG" 2>&1
    step "compute-sanitizer $tool (GPU unit tests)" $?
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$LOG" | tail -1 | tee -a "$SUMMARY"
  done
  echo "== compute-sanitizer --tool memcheck, E2E suite on the GPU" >>"$LOG"
  MINI_TRITON_FORCE_GPU=1 timeout 240 compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$BUILD/unittests/mt-unittests" --gtest_filter="$E2E_FILTER" >>"$LOG" 2>&1
  step "compute-sanitizer memcheck (E2E suite on the GPU)" $?
  grep -E "ERROR SUMMARY" "$LOG" | tail -1 | tee -a "$SUMMARY"
fi

MTC="$BUILD/tools/mt-cuda/mt-cuda"
for args in "--n 1000003" "--n 1" "--n 1024" "--n 4097 --num-warps 8" "--n 300 --num-warps 1"; do
  echo "== mt-cuda test/codegen/vector_add.mtir --run $args" >>"$LOG"
  # shellcheck disable=SC2086
  "$MTC" test/codegen/vector_add.mtir --run $args >>"$LOG" 2>&1
  step "smoke vector_add $args" $?
done
# Every codegen kernel compiles for the device's own arch and loads nowhere else than NVRTC here.
for spec in vector_add.mtir softmax.mtir control_flow.mtir dot.mtir "ops.mtir --function scans" \
  "ops.mtir --function shapes" "ops.mtir --function atomics" "ops.mtir --function arith"; do
  # shellcheck disable=SC2086
  "$MTC" test/codegen/$spec --compile --arch native >>"$LOG" 2>&1
  step "compile native $spec" $?
done

# The Python GPU suite: torch CUDA tensors through mini_triton's JIT (tests marked gpu).
PYPATH="$ROOT/python:$BUILD/python${PYTHONPATH:+:$PYTHONPATH}"
if ls "$BUILD"/python/mini_triton/_C*.so >/dev/null 2>&1; then
  if [[ "$SKIP" != *tests* ]]; then
    echo "== pytest -m gpu" >>"$LOG"
    PYTHONPATH="$PYPATH" timeout 400 python3 -m pytest -q -m gpu -rs python/tests >>"$LOG" 2>&1
    step "pytest -m gpu" $?
    tail -3 "$LOG" | tee -a "$SUMMARY"
    grep "launch overhead" "$LOG" | tee -a "$SUMMARY"
  fi
  if [[ "$SKIP" != *bench* ]]; then
    echo "== bench/memory_bound.py" >>"$LOG"
    PYTHONPATH="$PYPATH" timeout 400 python3 bench/memory_bound.py --out "$OUT" >>"$SUMMARY" 2>>"$LOG"
    step "bench memory_bound" $?
  fi
else
  echo "SKIP pytest -m gpu / bench (mini_triton._C was not built: nanobind or Python headers missing)" |
    tee -a "$SUMMARY"
fi

if python3 -c "import lit" 2>/dev/null && [ -e "$BUILD/test/lit.site.cfg.py" ]; then
  python3 -c "import lit.main; lit.main.main()" -sv "$BUILD/test" >>"$LOG" 2>&1
  step lit $?
else
  echo "SKIP lit (lit or FileCheck not installed)" | tee -a "$SUMMARY"
fi

if [ -n "${MT_DEVICE_EXTRA:-}" ]; then
  EXTRA=$(mktemp -d)
  export EXTRA PYTHONPATH="$PYPATH" MINI_TRITON_BUILD_DIR="$BUILD/python" MT_DEVICE_BUILD="$BUILD"
  echo "== extra: $MT_DEVICE_EXTRA" >>"$LOG"
  bash -c "$MT_DEVICE_EXTRA" >>"$LOG" 2>&1
  step "extra" $?
  tar -czf "$OUT/extra.tar.gz" -C "$EXTRA" .
fi
cat "$SUMMARY"
exit $FAILED

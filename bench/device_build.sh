# Sourced by the bench/*device*.sh scripts on the GPU machine (see /work/.library/device/README.md), from the
# repository root with ROOT, OUT and BUILD set: builds only the Python extension (mini_triton._C) into $BUILD
# unless it is there (kept while the machine stays warm; nanobind and CLI11 from .devdeps/ when the machine
# lacks them, see scripts/pack_device_deps.sh), then exports PYTHONPATH / MINI_TRITON_BUILD_DIR and prints
# the GPU. Prints "PASS build mini_triton._C" after a build; on a failed build prints FAIL with the tail of
# $OUT/build.log and exits 1.
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
  echo "PASS build mini_triton._C"
fi
export PYTHONPATH="$ROOT/python:$BUILD/python${PYTHONPATH:+:$PYTHONPATH}"
export MINI_TRITON_BUILD_DIR="$BUILD/python" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

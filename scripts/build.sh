#!/usr/bin/env bash
# Configures and builds mini-triton into ${BUILD_DIR:-build} (Release with debug info, ninja).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"

# Make `import mini_triton` work from any directory: a .pth file pointing at python/ (the package finds
# its extension in this build tree). Like `pip install -e .`, without compiling the C++ a second time.
if ls "$BUILD_DIR"/python/mini_triton/_C*.so >/dev/null 2>&1; then
  PY=${PYTHON:-python3}
  "$PY" - "$(pwd)/python" "$(cd "$BUILD_DIR" && pwd)" <<'PYEOF'
import os, site, sys
path, build = sys.argv[1], sys.argv[2]
for d in site.getsitepackages() + [site.getusersitepackages()]:
    try:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "mini_triton.pth"), "w") as f:
            f.write(path + "\n")
            # Tell the package where this build's extension is (it also searches <repo>/build*).
            f.write("import os; os.environ.setdefault('MINI_TRITON_BUILD_DIR', %r)\n" % build)
        break
    except OSError:
        continue
PYEOF
fi

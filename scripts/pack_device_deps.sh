#!/usr/bin/env bash
# Run HERE (the CPU machine), once, before a device run: copies what the GPU machine's image lacks into
# .devdeps/ (ignored by git), to be named in the device run's `carry`:
#   googletest sources (built there by device_check.sh), the CLI11 and nlohmann-json headers (header-only)
#   and nanobind.
# Then: run(command="bash scripts/device_check.sh", carry=[".devdeps"], timeout_s=600).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=$ROOT/.devdeps
rm -rf "$DEPS"
mkdir -p "$DEPS/include"
cp -r /usr/src/googletest "$DEPS/googletest"
cp -r /usr/include/CLI "$DEPS/include/CLI"
cp -r /usr/include/nlohmann "$DEPS/include/nlohmann" # the kernel cache's metadata (lib/runtime/KernelCache)
# nanobind (the Python extension's binding library), in case the device's python3 lacks it:
# device_check.sh puts .devdeps/py on PYTHONPATH when `python3 -m nanobind` fails there.
NB_DIR=$(python3 -c "import nanobind, os; print(os.path.dirname(nanobind.__file__))" 2>/dev/null || true)
if [ -n "$NB_DIR" ]; then
  mkdir -p "$DEPS/py"
  cp -r "$NB_DIR" "$DEPS/py/nanobind"
fi
EXCLUDE=$(git -C "$ROOT" rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$EXCLUDE")"
grep -qx '/.devdeps/' "$EXCLUDE" 2>/dev/null || echo '/.devdeps/' >>"$EXCLUDE"
du -sh "$DEPS"

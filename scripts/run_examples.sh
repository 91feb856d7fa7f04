#!/usr/bin/env bash
# The README's main command: installs dependencies, builds, runs the examples on the best backend.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
for k in examples/kernels/*.py; do
  [ -e "$k" ] || continue
  echo "== $k"
  "${BUILD_DIR:-build}/tools/mtc/mtc" run "$k"
done

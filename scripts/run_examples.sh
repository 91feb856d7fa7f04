#!/usr/bin/env bash
# The README's main command: installs dependencies, builds, runs the examples on the best available
# backend (the CPU interpreter where there is no GPU): the Python examples check themselves against
# NumPy; the kernel files in examples/kernels run through `mtc --run` from their `# mtc-run:` lines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
for ex in examples/*.py; do
  echo "== python3 $ex"
  python3 "$ex"
done
for k in examples/kernels/*.py; do
  grep -q '# mtc-run:' "$k" || continue
  echo "== mtc --run $k"
  "${BUILD_DIR:-build}/tools/mtc/mtc" "$k" --run
done
if [ -x "${BUILD_DIR:-build}/examples/cpp/mt-example-vector-add" ]; then
  echo "== examples/cpp/vector_add"
  "${BUILD_DIR:-build}/examples/cpp/mt-example-vector-add"
fi

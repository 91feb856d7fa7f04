#!/usr/bin/env bash
# The README's main command: installs dependencies, builds, runs the examples on the best available
# backend (the CPU interpreter where there is no GPU): the Python examples check themselves against
# NumPy; the kernel files in examples/kernels run through `mtc --run` from their `# mtc-run:` lines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# The training script: a short run (the tiny model on the CPU, 100 steps of the seed's model on a GPU),
# its log and loss curve written outside the source tree.
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  TRAIN_ARGS=(--steps 100)
  # The best backend: the examples' NumPy launches go to the GPU (copied there and back).
  export MINI_TRITON_FORCE_GPU=1
  echo "== a GPU is present: examples run on it (MINI_TRITON_FORCE_GPU=1)"
else
  TRAIN_ARGS=(--tiny)
fi
for ex in examples/*.py; do
  if [ "$(basename "$ex")" = train_lm.py ]; then
    echo "== python3 $ex ${TRAIN_ARGS[*]}"
    python3 "$ex" "${TRAIN_ARGS[@]}" --out "${TMPDIR:-/tmp}/mini_triton_train_lm"
    continue
  fi
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

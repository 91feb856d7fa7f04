#!/usr/bin/env bash
# Issue 7 on the GPU machine, in one call per mode (see /work/.library/device/README.md):
#   here:   bash scripts/pack_device_deps.sh          (nanobind + CLI11 into .devdeps/, git-ignored)
#   device: run(command="bash bench/llm_device.sh bench", carry=[".devdeps"], timeout_s=600)
#           run(command="bash bench/llm_device.sh train", carry=[".devdeps"], timeout_s=600)
#           run(command="bash bench/llm_device.sh matmul", carry=[".devdeps"], timeout_s=600)
# Builds only the Python extension (mini_triton._C, bench/device_build.sh) into $MT_DEVICE_BUILD (default /tmp/mt-device-build; kept
# while the machine stays warm), then
#   bench: pytest python/tests/test_llm_gpu.py (the ops on CUDA vs float64, selection, a training step) and
#          bench/llm_bench.py (each op vs eager / torch.compile / Triton; under 4 minutes)
#          -> $OUT: build.log pytest_llm_gpu.log llm_bench.log llm_bench.json llm_bench.png
#   matmul: the 16-bit matmul-shaped ops on tensor cores (issue 5): pytest test_tc_kernels.py + test_llm_gpu.py,
#          then bench/llm_bench.py --ops swiglu_matmul,attention,newton_schulz (autotuned configs recorded)
#          -> $OUT: build.log pytest_tc.log llm_bench.log llm_bench.json llm_bench.png
#   train: examples/train_lm.py --compare for the transformer (LLM_STEPS, default 200) and the MinGRU LM
#          (LLM_MINGRU_STEPS, default 150): ours vs pure PyTorch, same seed
#          -> $OUT: build.log train_<model>.log train_<model>_compare.json train_<model>_compare.png
# Exit status: 0 when every step passed.
set -u -o pipefail
MODE=${1:-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/device-out}
BUILD=${MT_DEVICE_BUILD:-/tmp/mt-device-build}
mkdir -p "$OUT"
cd "$ROOT"
FAILED=0
step() { # step NAME RC
  if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1 (rc $2)"; FAILED=1; fi
}

source bench/device_build.sh

case "$MODE" in
bench)
  timeout 200 python3 -m pytest -q -m gpu -rs python/tests/test_llm_gpu.py >"$OUT/pytest_llm_gpu.log" 2>&1
  step "pytest test_llm_gpu.py" $?
  tail -15 "$OUT/pytest_llm_gpu.log"
  timeout 280 python3 bench/llm_bench.py --out "$OUT" >"$OUT/llm_bench.log" 2>&1
  step "bench/llm_bench.py" $?
  tail -25 "$OUT/llm_bench.log"
  ;;
matmul)
  timeout 180 python3 -m pytest -q -rs -s python/tests/test_tc_kernels.py python/tests/test_llm_gpu.py \
    >"$OUT/pytest_tc.log" 2>&1
  step "pytest test_tc_kernels.py test_llm_gpu.py" $?
  tail -15 "$OUT/pytest_tc.log"
  timeout 300 python3 bench/llm_bench.py --ops swiglu_matmul,attention,newton_schulz --budget-s 250 --out "$OUT" \
    >"$OUT/llm_bench.log" 2>&1
  step "bench/llm_bench.py (matmul-shaped ops)" $?
  tail -25 "$OUT/llm_bench.log"
  python3 - "$OUT/llm_bench.json" <<'PY' || true
import json, sys
for e in json.load(open(sys.argv[1]))["cases"]:
    for col, s in (e.get("columns") or {}).items():
        if s and s.get("configs"):
            print(e["op"], e["shape"], e["mode"], col, s["configs"])
PY
  ;;
train)
  for model in transformer mingru; do
    if [ "$model" = transformer ]; then steps=${LLM_STEPS:-200}; else steps=${LLM_MINGRU_STEPS:-150}; fi
    timeout 270 python3 examples/train_lm.py --model "$model" --compare --steps "$steps" --eval-every 50 \
      --out "/tmp/train_$model" >"$OUT/train_$model.log" 2>&1
    step "train_lm --compare $model ($steps steps)" $?
    cp "/tmp/train_$model/compare.json" "$OUT/train_${model}_compare.json" 2>/dev/null
    cp "/tmp/train_$model/compare.png" "$OUT/train_${model}_compare.png" 2>/dev/null
    grep -E "^\[|^compare" "$OUT/train_$model.log" | tail -8
  done
  ;;
*)
  echo "usage: bash bench/llm_device.sh [bench|train|matmul]"
  exit 2
  ;;
esac
exit $FAILED

#!/usr/bin/env bash
# SASS of a generated kernel, without a GPU: mtc emits the CUDA (sm_90a, warpgroup MMAs), nvcc compiles it
# to a cubin (ptxas's report: registers, spills, C7514 serialization), cuobjdump disassembles it. Prints the
# report and a count of the instructions that matter for tensor-core loops; writes OUT.cu / OUT.sass.
#   bash bench/sass.sh OUT FILE KERNEL [mtc options and name=spec arguments...]
#   bash bench/sass.sh /tmp/mm examples/kernels/matmul.py matmul_kernel --num-warps 8 --num-stages 3 \
#     a_ptr='*bf16:16777216' b_ptr='*bf16:16777216' c_ptr='*bf16:16777216' M=4096 N=4096 K=4096 \
#     stride_am=4096 stride_ak=1 stride_bk=4096 stride_bn=1 stride_cm=4096 stride_cn=1 BLOCK_SIZE_M=128 \
#     BLOCK_SIZE_N=256 BLOCK_SIZE_K=64 GROUP_SIZE_M=8 OUTPUT_FP16=False
# Plain integers get Triton's specialisation (== 1, % 16) as at launch; `i32:V` does not. Needs a build
# (build/tools/mtc/mtc, or MTC=path) and nvcc (PATH or /usr/local/cuda/bin); cuobjdump from PATH, else from
# the nvidia-cuda-cuobjdump and -nvdisasm wheels (pip download into /tmp/mt-cuobjdump).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { sed -n 2,12p "$0"; exit 2; }
OUT=$1 FILE=$2 KERNEL=$3
shift 3
MTC=${MTC:-$ROOT/build/tools/mtc/mtc}
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
CUOBJDUMP=$(command -v cuobjdump || true)
if [ -z "$CUOBJDUMP" ]; then
  CUOBJDUMP=$(find /tmp/mt-cuobjdump -name cuobjdump -type f 2>/dev/null | head -1 || true)
  if [ -z "$CUOBJDUMP" ]; then
    mkdir -p /tmp/mt-cuobjdump
    python3 -m pip download -q --no-deps nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm -d /tmp/mt-cuobjdump
    (cd /tmp/mt-cuobjdump && for w in *.whl; do python3 -m zipfile -e "$w" x; done)
    CUOBJDUMP=$(find /tmp/mt-cuobjdump -name cuobjdump -type f | head -1)
  fi
  chmod +x "$(dirname "$CUOBJDUMP")"/*
  export PATH="$(dirname "$CUOBJDUMP"):$PATH" # cuobjdump runs nvdisasm
fi
INC=$(mktemp -d)
trap 'rm -rf "$INC"' EXIT
ln -s "$ROOT/device" "$INC/mt" # the generated code includes "mt/kernel.cuh"
"$MTC" "$FILE" -k "$KERNEL" --emit=cuda --wgmma --no-line-directives "$@" >"$OUT.cu"
"$NVCC" -arch=sm_90a -cubin -std=c++17 -I"$INC" -Xptxas -v "$OUT.cu" -o "$OUT.cubin" 2>&1 |
  grep -E "ptxas (info|warning)" | grep -vE "Compiling entry|Function properties|gmem" || true
"$CUOBJDUMP" -sass "$OUT.cubin" | grep -E '^\s+/\*[0-9a-f]{4,}\*/' | sed -E 's@ +/\* 0x[0-9a-f]+ \*/@@; s/ +/ /g' \
  >"$OUT.sass"
echo "$(wc -l <"$OUT.sass") instructions in $OUT.sass"
for op in HGMMA HMMA LDGSTS LDGDEPBAR 'DEPBAR.LE' 'BAR.SYNC' SYNCS MEMBAR FENCE STG LDG STS LDS BRA; do
  printf '  %-10s %s\n' "$op" "$(grep -c " $op" "$OUT.sass" || true)"
done

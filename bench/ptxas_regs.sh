#!/usr/bin/env bash
# ptxas register and spill counts (sm_90a) of the scan, matmul and attention kernels as the CUDA emitter writes
# them, with and without loads run ahead in loops (EmitPipeline.cpp). No GPU needed: mtc --emit=cuda, then nvcc.
#   bench/ptxas_regs.sh [BUILD_DIR]        (default build/; needs tools/mtc built and /usr/local/cuda/bin/nvcc)
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MTC=${1:-$ROOT/build}/tools/mtc/mtc
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ln -s "$ROOT/device" "$TMP/mt"
S=$ROOT/python/mini_triton/kernels/scan.py
A=$ROOT/python/mini_triton/kernels/attention.py
E=$ROOT/examples/kernels
FWD="x_ptr=*bf16 a_ptr=*bf16 h0_ptr=*bf16 h_ptr=*bf16 T=i32 D=i32 stride_xb=i32 stride_xt=i32 stride_xd=i32:1 stride_ab=i32 stride_at=i32 stride_ad=i32:1 stride_h0b=i32 stride_h0d=i32:1 HAS_H0=True ACC='fp32'"
BWD="dout_ptr=*bf16 a_ptr=*bf16 h_ptr=*bf16 h0_ptr=*bf16 dx_ptr=*bf16 da_ptr=*bf16 dh0_ptr=*bf16 T=i32 D=i32 stride_gb=i32 stride_gt=i32 stride_gd=i32:1 stride_ab=i32 stride_at=i32 stride_ad=i32:1 stride_h0b=i32 stride_h0d=i32:1 HAS_H0=True ACC='fp32'"
MM="a_ptr=*fp16 b_ptr=*fp16 c_ptr=*fp16 M=i32 N=i32 K=i32 stride_am=i32 stride_ak=i32:1 stride_bk=i32 stride_bn=i32:1 stride_cm=i32 stride_cn=i32:1 GROUP_SIZE_M=8 OUTPUT_FP16=True"
regs() { # FILE.cu -> "R regs, S B spilled"
  "$NVCC" -arch=sm_90a -cubin -std=c++17 -Xptxas -v -I"$TMP" -o "$TMP/k.cubin" "$1" 2>&1 |
    sed -nE 's/.*spill stores, ([0-9]+) bytes spill loads.*/\1/p; s/.*Used ([0-9]+) registers.*/\1/p' | tr '\n' ' ' |
    awk '{printf "%3d regs %4d B spilled", $2, $1}'
}
row() { # TAG FILE KERNEL NUM_WARPS ARGS...
  local tag=$1 file=$2 kernel=$3 nw=$4
  shift 4
  local out=""
  for mode in --no-prefetch --prefetch-depth=1 --prefetch-depth=2; do
    # shellcheck disable=SC2086
    "$MTC" "$file" -k "$kernel" "$@" --num-warps "$nw" --emit=cuda ${mode/=/ } >"$TMP/k.cu" 2>"$TMP/err" ||
      { out+=" | mtc failed: $(head -1 "$TMP/err")"; continue; }
    out+=" | $(regs "$TMP/k.cu") ($(grep -c 'prefetched loads' "$TMP/k.cu") pf arrays)"
  done
  printf "%-30s%s\n" "$tag" "$out"
}
echo "kernel                         | no prefetch | depth 1 | depth 2 (default, num_stages=3)"
# shellcheck disable=SC2086
{
  row "fwd_seq BD64 w2" $S rnn_scan_fwd_seq_kernel 2 $FWD BLOCK_D=64
  row "fwd_seq BD128 w4" $S rnn_scan_fwd_seq_kernel 4 $FWD BLOCK_D=128
  row "fwd_chunked 128x32 w4" $S rnn_scan_fwd_chunked_kernel 4 $FWD CHUNK_T=128 CHUNK_D=32 BLOCK_T=128 BLOCK_D=32
  row "fwd_chunked 256x32 w8" $S rnn_scan_fwd_chunked_kernel 8 $FWD CHUNK_T=256 CHUNK_D=32 BLOCK_T=256 BLOCK_D=32
  row "fwd_chunked 16x32 w4" $S rnn_scan_fwd_chunked_kernel 4 $FWD CHUNK_T=16 CHUNK_D=32 BLOCK_T=16 BLOCK_D=32
  row "bwd_seq BD64 w2" $S rnn_scan_bwd_seq_kernel 2 $BWD BLOCK_D=64
  row "bwd_chunked 128x32 w4" $S rnn_scan_bwd_chunked_kernel 4 $BWD CHUNK_T=128 CHUNK_D=32 BLOCK_T=128 BLOCK_D=32
  row "bwd_chunked 64x32 w4" $S rnn_scan_bwd_chunked_kernel 4 $BWD CHUNK_T=64 CHUNK_D=32 BLOCK_T=64 BLOCK_D=32
  row "matmul 64x64x32 fp16 w4" $E/matmul.py matmul_kernel 4 $MM BLOCK_SIZE_M=64 BLOCK_SIZE_N=64 BLOCK_SIZE_K=32
  row "matmul 128x128x32 fp16 w8" $E/matmul.py matmul_kernel 8 $MM BLOCK_SIZE_M=128 BLOCK_SIZE_N=128 BLOCK_SIZE_K=32
  row "attn_fwd (lib) 32x32 d64 bf16" $A attn_fwd_kernel 4 q_ptr='*bf16' k_ptr='*bf16' v_ptr='*bf16' o_ptr='*bf16' lse_ptr='*fp32' S=i32 QK_SCALE=0.18 BLOCK_M=32 BLOCK_N=32 HEAD_D=64 BLOCK_D=64 CAUSAL=True ACC="'fp32'"
  row "attn_dkdv (lib) 32x32 d64" $A attn_bwd_dkdv_kernel 4 q_ptr='*bf16' k_ptr='*bf16' v_ptr='*bf16' do_ptr='*bf16' lse_ptr='*fp32' delta_ptr='*fp32' dk_ptr='*bf16' dv_ptr='*bf16' S=i32 SM_SCALE=0.125 QK_SCALE=0.18 BLOCK_M=32 BLOCK_N=32 HEAD_D=64 BLOCK_D=64 CAUSAL=True ACC="'fp32'"
  row "attn_fwd (example) 64x64 fp32" $E/attention.py attn_fwd_kernel 4 Q='*fp32' K='*fp32' V='*fp32' Out='*fp32' qk_scale=fp32 stride_z=i32 stride_h=i32 stride_s=i32 stride_d=i32:1 H=i32 N_CTX=i32 HEAD_DIM=64 BLOCK_M=64 BLOCK_N=64 CAUSAL=True
}

#!/usr/bin/env bash
# Barriers per chunk and ptxas registers (sm_90a) of the chunked scan kernels, column-strip layouts
# (EmitStrip.cpp) against the blocked layout (mtc --no-strip), bf16 data, for the benchmark's chunk
# candidates (bench/scan_bench.py CHUNK_CONFIGS). No GPU needed.
#   bench/scan_strip_layout.sh [BUILD_DIR]   (default build/; needs tools/mtc and /usr/local/cuda/bin/nvcc)
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MTC=${1:-$ROOT/build}/tools/mtc/mtc
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ln -s "$ROOT/device" "$TMP/mt"
S=$ROOT/python/mini_triton/kernels/scan.py
FWD="x_ptr=*bf16 a_ptr=*bf16 h0_ptr=*bf16 h_ptr=*bf16 T=i32 D=i32 stride_xb=i32 stride_xt=i32 stride_xd=i32:1 stride_ab=i32 stride_at=i32 stride_ad=i32:1 stride_h0b=i32 stride_h0d=i32:1 HAS_H0=False ACC='fp32'"
BWD="dout_ptr=*bf16 a_ptr=*bf16 h_ptr=*bf16 h0_ptr=*bf16 dx_ptr=*bf16 da_ptr=*bf16 dh0_ptr=*bf16 T=i32 D=i32 stride_gb=i32 stride_gt=i32 stride_gd=i32:1 stride_ab=i32 stride_at=i32 stride_ad=i32:1 stride_h0b=i32 stride_h0d=i32:1 HAS_H0=False ACC='fp32'"
# Barriers in the first top-level scalar loop (the chunk loop), divided by the copies of its body that the
# register prefetch unrolls (EmitPipeline.cpp).
loop_barriers() {
  awk '!inside && /^  for \(mt::/ {inside=1; next} inside && /^  }$/ {exit} inside && /__syncthreads\(\)/ {n++}
       END {print n+0}' "$1"
}
regs() {
  "$NVCC" -arch=sm_90a -cubin -std=c++17 -Xptxas -v -I"$TMP" -o "$TMP/k.cubin" "$1" 2>&1 |
    sed -nE 's/.*spill stores, ([0-9]+) bytes spill loads.*/\1/p; s/.*Used ([0-9]+) registers.*/\1/p' | tr '\n' ' ' |
    awk '{printf "%3d regs %3d B spilled", $2, $1}'
}
printf "%-28s | %-44s | %s\n" "kernel chunk (warps)" "blocked: barriers/chunk, regs" "strip: barriers/chunk, regs"
for dir in fwd bwd; do
  for cfg in ${CONFIGS:-16:32:4 64:32:4 128:32:4 128:32:8 256:32:8 64:64:4 128:16:4 16:32:1 32:32:1 64:32:2}; do
    IFS=: read -r ct cd nw <<<"$cfg"
    kernel=rnn_scan_${dir}_chunked_kernel
    args=$FWD
    [ $dir = bwd ] && args=$BWD
    out=""
    for mode in --no-strip ""; do
      # shellcheck disable=SC2086
      "$MTC" "$S" -k $kernel $args CHUNK_T=$ct CHUNK_D=$cd BLOCK_T=$ct BLOCK_D=$cd --num-warps $nw --emit=cuda $mode \
        >"$TMP/k.cu" 2>"$TMP/err" || { out+=" | mtc failed: $(head -1 "$TMP/err")"; continue; }
      copies=$(grep -c '// prefetched loads' "$TMP/k.cu")
      loads=$([ $dir = fwd ] && echo 2 || echo 3)
      copies=$((copies / loads))
      [ "$copies" -lt 1 ] && copies=1
      b=$(loop_barriers "$TMP/k.cu")
      out+=" | $(printf '%2d' $((b / copies))) barriers, $(regs "$TMP/k.cu")            "
    done
    printf "%-28s%s\n" "$dir ${ct}x${cd} (w$nw)" "$out"
  done
done

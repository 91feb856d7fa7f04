#!/usr/bin/env bash
# ncu profiles of one matmul launch (bench/profile_matmul.py), ours and Triton's on the same source, into
# $EXTRA (default ./profile-out). Run on the device machine after a build, e.g.
#   MT_DEVICE_SKIP=tests,bench MT_DEVICE_EXTRA='bash bench/profile_matmul.sh' bash scripts/device_check.sh
# Env: SIZE (4096), CONFIG (BM,BN,BK,GROUP_M,num_warps[,num_stages]; 128,128,64,8,8).
# WHAT=attention profiles bench/profile_attention.py instead (CONFIG: BLOCK_M,BLOCK_N,num_warps,num_stages,
# default 128,128,8,3; ATTN_ARGS e.g. "--causal --head-dim 64"); WHAT=scan bench/profile_scan.py (CONFIG:
# CHUNK_T,CHUNK_D,num_warps, default 128,32,4; SCAN_ARGS e.g. "--mode chunked --direction bwd").
set -u
OUTDIR=${EXTRA:-profile-out}
mkdir -p "$OUTDIR"
METRICS=l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum
METRICS=$METRICS,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active
METRICS=$METRICS,sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active
METRICS=$METRICS,l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum,smsp__inst_executed.sum
for s in barrier long_scoreboard wait math_pipe_throttle mio_throttle lg_throttle short_scoreboard not_selected \
  selected dispatch_stall membar sleeping drain branch_resolving no_instruction; do
  METRICS=$METRICS,smsp__average_warps_issue_stalled_${s}_per_issue_active.ratio
done
METRICS=$METRICS,lts__t_sectors_srcunit_tex_op_read.sum,lts__throughput.avg.pct_of_peak_sustained_elapsed
source "$(dirname "$0")/profile_target.sh" # NAME, CMD
for compiler in mini_triton triton; do
  ncu --kernel-name regex:$NAME --launch-skip 1 --launch-count 1 --section SpeedOfLight --section LaunchStats \
    --section Occupancy --section WarpStateStats --section SchedulerStats --metrics "$METRICS" \
    "${CMD[@]}" --compiler "$compiler" >"$OUTDIR/ncu_${NAME}_$compiler.txt" 2>&1
  echo "== $compiler"
  grep -E "rel_err|Duration|Registers Per|Achieved Occupancy|hmma|gmma|conflicts|local_op|inst_executed.sum|issue_stalled|lts__|L2 Cache Throughput|DRAM Throughput|Warp Cycles Per Issued|Dynamic Shared" \
    "$OUTDIR/ncu_${NAME}_$compiler.txt" | head -50
done

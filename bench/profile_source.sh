#!/usr/bin/env bash
# Where a kernel's warps stall, per SASS instruction: ncu's PC sampling (SourceCounters) of one launch, ours
# and Triton's on the same source, exported as the source page in CSV (one row per SASS instruction, with
# its sampled stall reasons) into $EXTRA (default ./profile-out). WHAT / CONFIG / SIZE / ATTN_ARGS / SCAN_ARGS
# as bench/profile_matmul.sh (bench/profile_target.sh); summarise here with `python3 bench/stall_sites.py FILE.csv`.
set -u
OUTDIR=${EXTRA:-profile-out}
mkdir -p "$OUTDIR"
source "$(dirname "$0")/profile_target.sh" # NAME, CMD
for compiler in mini_triton triton; do
  rep="/tmp/mt-src-${NAME}-$compiler"
  rm -f "$rep.ncu-rep"
  ncu --kernel-name regex:$NAME --launch-skip 1 --launch-count 1 --section SourceCounters \
    --section WarpStateStats -o "$rep" "${CMD[@]}" --compiler "$compiler" >"$OUTDIR/ncu_src_${NAME}_$compiler.log" 2>&1
  ncu -i "$rep.ncu-rep" --page source --csv --print-source sass >"$OUTDIR/ncu_src_${NAME}_$compiler.csv" 2>&1
  echo "== $compiler: $(wc -l <"$OUTDIR/ncu_src_${NAME}_$compiler.csv") rows"
  python3 bench/stall_sites.py "$OUTDIR/ncu_src_${NAME}_$compiler.csv" | head -40
done

# Sourced by bench/profile_matmul.sh and bench/profile_source.sh: NAME (the kernel-name regex) and CMD (the
# launch to profile) for WHAT=matmul (default; SIZE, CONFIG BM,BN,BK,GROUP_M,num_warps[,num_stages]),
# WHAT=attention (CONFIG BLOCK_M,BLOCK_N,num_warps,num_stages; ATTN_ARGS) or WHAT=scan (CONFIG
# CHUNK_T,CHUNK_D,num_warps; SCAN_ARGS).
SIZE=${SIZE:-4096}
if [ "${WHAT:-matmul}" = attention ]; then
  NAME=attn
  CMD=(python3 bench/profile_attention.py --config "${CONFIG:-128,128,8,3}" ${ATTN_ARGS:-})
elif [ "${WHAT:-matmul}" = scan ]; then
  NAME=rnn_scan
  CMD=(python3 bench/profile_scan.py --config "${CONFIG:-128,32,4}" ${SCAN_ARGS:-})
else
  NAME=matmul
  CMD=(python3 bench/profile_matmul.py --size "$SIZE" --config "${CONFIG:-128,128,64,8,8}")
fi

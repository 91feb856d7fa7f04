#!/usr/bin/env bash
# A/B of the attention code-generation variants that are off by default, in one device call
# (see /work/.library/device/README.md):
#   run(command="bash bench/device_run.sh 'bash bench/attention_variants.sh'", carry=[".devdeps"])
# Per-config timings (bench/attention_ab.py: BM128 BN128 w8 s3 at head dim 128, BM64 BN64 w4 s3 at 64, median
# of 3 interleaved rounds, each checked against float64) of: the default code; MINI_TRITON_AFFINE_RINGS=1
# (running pointers for k and v); MINI_TRITON_ROTATE=1 (P @ V issued an iteration late, D128 only: the only
# ping-pong loops); both; then Triton 3.x on the same source, then the default again (drift check).
# -> $OUT/attention_ab.jsonl, one line per case and variant; prints one line each.
set -u -o pipefail
export MINI_TRITON_CACHE_DISABLE=1
ab() { python3 bench/attention_ab.py "$@" 2>&1 | grep -v "^notice"; }
FAILED=0
ab --label default || FAILED=1
MINI_TRITON_AFFINE_RINGS=1 ab --label affine || FAILED=1
MINI_TRITON_ROTATE=1 ab --label rotate --cases D128,D128c || FAILED=1
MINI_TRITON_ROTATE=1 MINI_TRITON_AFFINE_RINGS=1 ab --label rotate+affine --cases D128,D128c || FAILED=1
ab --label triton --compiler triton || FAILED=1
ab --label default-again || FAILED=1
exit $FAILED

# Affine rings (mtc --affine-rings): ring copies whose pointer tile is affine in the loop variable, with one
# coefficient for every element (k + (t * 64 + rd) * 32 + rn: 2048 elements per iteration), read running
# group pointers: set after the prologue's copies to the first loop copies' pointers (num_stages - 1
# iterations ahead) and advanced by the loop's step times the coefficient after each copy, instead of
# recomputing the address from t. The copies of the prologue still compute it. The kernel: wgmma_mbarrier.py's.
# RUN: %mtc %S/wgmma_mbarrier.py -k attn_like q=*bf16:8192 k=*bf16:8192 v=*bf16:8192 o=*fp32:8192 NT=4 --num-warps 8 --num-stages 3 --wgmma --mbarrier --affine-rings --emit=cuda --no-line-directives | FileCheck %s
# RUN: %mtc %S/wgmma_mbarrier.py -k attn_like q=*bf16:8192 k=*bf16:8192 v=*bf16:8192 o=*fp32:8192 NT=4 --num-warps 8 --num-stages 3 --wgmma --mbarrier --emit=cuda --no-line-directives | FileCheck %s --check-prefix=PLAIN
# CHECK: mt::cpAsync<16>(
# CHECK: const mt::i64 [[KS:v[0-9]+_astep]] = (mt::i64)({{v[0-9]+}}) * ((1 * (mt::i64)((mt::i32)64LL)) * (mt::i64)((mt::i32)32LL));
# CHECK: mt::bf16 * [[KR:v[0-9]+_arun]][
# CHECK: const mt::i64 [[VS:v[0-9]+_astep]] =
# CHECK: mt::bf16 * [[VR:v[0-9]+_arun]][
# CHECK: for (
# CHECK: [[KP:v[0-9]+_p]][mt_g / 8] = [[KR]][mt_g / 8];
# CHECK-NEXT: [[KR]][mt_g / 8] += [[KS]];
# CHECK: [[VP:v[0-9]+_p]][mt_g / 8] = [[VR]][mt_g / 8];
# CHECK-NEXT: [[VR]][mt_g / 8] += [[VS]];
# PLAIN-NOT: _arun

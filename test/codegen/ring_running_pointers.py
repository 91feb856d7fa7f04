# The loop's cp.async ring copies of advanced pointer tiles (`a_ptrs += BLOCK_K * stride_ak`) read their groups'
# addresses from running pointers, as Triton's advanced pointers: set after the prologue's copies to the
# pointers `num_stages - 1` iterations ahead, then one 64-bit add of the step a group after each iteration's
# copies (base + running offset + distance made ptxas rematerialise each B pointer from a 32-bit offset: three
# instructions a group and a reload of b_ptr, ncu of the 4096^3 matmul).
# RUN: %mtc %S/../../examples/kernels/matmul.py -k matmul_kernel a_ptr=*bf16:16 b_ptr=*bf16:16 c_ptr=*fp32:16 M=256 N=256 K=256 stride_am=256 stride_ak=1 stride_bk=256 stride_bn=1 stride_cm=256 stride_cn=1 BLOCK_SIZE_M=64 BLOCK_SIZE_N=64 BLOCK_SIZE_K=64 GROUP_SIZE_M=8 OUTPUT_FP16=0 --num-warps 4 --num-stages 3 --wgmma --emit=cuda --no-line-directives | FileCheck %s
# CHECK: mt::bf16 * [[AB:v[0-9]+_base]][4];
# CHECK-NEXT: mt::bf16 * [[AN:v[0-9]+_run]][4];
# CHECK: mt::bf16 * [[BB:v[0-9]+_base]][4];
# CHECK-NEXT: mt::bf16 * [[BN:v[0-9]+_run]][4];
# The prologue's two iterations from the bases, then the pointers of the third.
# CHECK: _p[mt_g / 8] = (([[AB]][mt_g / 8] + ({{v[0-9]+}}_off + (mt::i64)0 *
# CHECK: _p[mt_g / 8] = (([[AB]][mt_g / 8] + ({{v[0-9]+}}_off + (mt::i64)1 *
# CHECK: [[AN]][mt_g / 8] = (([[AB]][mt_g / 8] + ({{v[0-9]+}}_off + (mt::i64)2 *
# CHECK: [[BN]][mt_g / 8] = (([[BB]][mt_g / 8] + ({{v[0-9]+}}_off + (mt::i64)2 *
# CHECK: for (mt::i32
# CHECK: _p[mt_g / 8] = [[AN]][mt_g / 8];
# CHECK-NEXT: [[AN]][mt_g / 8] += (mt::i64)((mt::i32)64LL);
# CHECK: _p[mt_g / 8] = [[BN]][mt_g / 8];
# CHECK-NEXT: [[BN]][mt_g / 8] += (mt::i64)(

# cp.async ring copies that the axis analysis proves aligned (EmitAxis.cpp: 16-byte pointer hints, row strides
# that are multiples of 16, a K step of BLOCK_K elements) and contiguous need no per-iteration alignment check
# and no element path: A's copies in the loop are straight-line. B's columns `(pid_n * BN + arange) % N` are
# contiguous when pid_n * BN >= 0, which the kernel's arithmetic on its arguments does not show: checked once
# before the loop (the `_contig` flag), and the loop branches on that flag only, with no alignment check.
# RUN: %mtc %S/../../examples/kernels/matmul.py -k matmul_kernel a_ptr=*bf16:16 b_ptr=*bf16:16 c_ptr=*fp32:16 M=256 N=256 K=256 stride_am=256 stride_ak=1 stride_bk=256 stride_bn=1 stride_cm=256 stride_cn=1 BLOCK_SIZE_M=64 BLOCK_SIZE_N=64 BLOCK_SIZE_K=64 GROUP_SIZE_M=8 OUTPUT_FP16=0 --num-warps 4 --num-stages 3 --wgmma --emit=cuda --no-line-directives | FileCheck %s
# RUN: %mtc %s -k shifted a_ptr=*bf16:4096 b_ptr=*bf16:4096 c_ptr=*fp32:4096 --num-warps 4 --num-stages 3 --wgmma --emit=cuda --no-line-directives | FileCheck %s --check-prefix=SHIFTED
# CHECK: bool {{v[0-9]+}}_contig = true;
# CHECK: bool [[BC:v[0-9]+_contig]] = true;
# CHECK: for (mt::i32
# CHECK-NOT: mt::aligned<
# CHECK: bf16 * [[AP:v[0-9]+_p]][4];
# CHECK-NOT: _ok
# CHECK: [[SA:v[0-9]+_s0]] = mt::swizzled<64, 64, 128>(L);
# CHECK: mt::cpAsync<16>(&{{v[0-9]+}}_ring{{\[}}[[SA]] + (mt_g / 8) * 1024], [[AP]][mt_g / 8],
# CHECK: bool {{v[0-9]+}}_ok = [[BC]];
# CHECK-NOT: mt::aligned<
# CHECK: mt::cpAsyncCommit();
# A pointer one element off keeps the run-time alignment check and the element path.
# SHIFTED: for (mt::i32
# SHIFTED: _ok = {{v[0-9]+}}_ok && mt::aligned<16>(
# SHIFTED: } else {
import triton
import triton.language as tl


@triton.jit
def shifted(a_ptr, b_ptr, c_ptr):
    m = tl.arange(0, 64)
    k = tl.arange(0, 64)
    acc = tl.zeros((64, 64), dtype=tl.float32)
    for k0 in range(0, 256, 64):
        a = tl.load(a_ptr + 1 + m[:, None] * 256 + (k0 + k)[None, :])
        b = tl.load(b_ptr + (k0 + k)[:, None] * 64 + m[None, :])
        acc = tl.dot(a, b, acc)
    tl.store(c_ptr + m[:, None] * 64 + m[None, :], acc)

# Warpgroup MMAs (mtc --wgmma, the runtime's choice on sm_90a): a 64 x 64 x 32 bf16 K loop on 4 warps keeps its
# operands in swizzled shared memory (A: rows of 32 elements, 64-byte swizzle; B: rows of 64, 128-byte), fed
# by the cp.async ring with one more slot than stages, its products one iteration in flight; the second loop's
# dot takes A (the first product, cast to bf16) from registers (also in flight).
# RUN: %mtc %s -k two_dots a=*bf16:8192 b=*bf16:8192 c=*fp32:4096 KT=4 --num-warps 4 --wgmma --emit=cuda --no-line-directives | FileCheck %s --check-prefixes=CHECK,AFTER
# RUN: %mtc %s -k two_dots a=*bf16:8192 b=*bf16:8192 c=*fp32:4096 KT=4 --num-warps 4 --wgmma --wait-first --emit=cuda --no-line-directives | FileCheck %s --check-prefix=FIRST
# RUN: %mtc %s -k two_dots a=*bf16:8192 b=*bf16:8192 c=*fp32:4096 KT=4 --num-warps 8 --wgmma --emit=cuda --no-line-directives | FileCheck %s --check-prefix=MMA
# CHECK: void mt_wgmma_m64n64k16_bf16_nmajor(float (&d)[32], unsigned long long da, unsigned long long db)
# CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
# CHECK: void mt_wgmma_m64n64k16_bf16_rs_nmajor(float (&d)[32], const unsigned (&a)[4], unsigned long long db)
# CHECK: extern __shared__ __align__(1024) unsigned char mt_smem[];
# A thread's groups of 8 lie 32 rows of A (64-byte swizzle: 16 rows a period) and 16 rows of B apart, so at
# constant offsets from its first (SmemTile::shift): one swizzled() per operand, immediates after it.
# CHECK: [[SA:v[0-9]+_s0]] = mt::swizzled<64, 32, 64>(L);
# CHECK: mt::cpAsync<16>(&{{v[0-9]+}}_ring{{\[}}[[SA]] + (mt_g / 8) * 1024]
# CHECK: [[SB:v[0-9]+_s0]] = mt::swizzled<32, 64, 128>(L);
# CHECK: mt::cpAsync<16>(&{{v[0-9]+}}_ring{{\[}}[[SB]] + (mt_g / 8) * 1024]
# Filled by cp.async alone (proven aligned, no element path): no proxy fence before the products.
# CHECK-NOT: mt::fenceProxyAsync();
# The next copies are issued while this iteration's products run, before the wait for the last iteration's
# (by default) or after it (--wait-first, Triton's order).
# AFTER: mt::wgmmaAccumulate<mt::bf16, 64, 64, 32, 64, 128, false, mt_wgmma_m64n64k16_bf16_nmajor, -1>(
# AFTER-NEXT: if (
# AFTER: mt::cpAsync<16>(
# AFTER: mt::cpAsyncCommit();
# AFTER-NEXT: mt::wgmmaWait<1>([[ACC:v[0-9]+]]); // the last iteration's products are done
# FIRST: mt::wgmmaAccumulate<mt::bf16, 64, 64, 32, 64, 128, false, mt_wgmma_m64n64k16_bf16_nmajor, -1>(
# FIRST-NEXT: mt::wgmmaWait<1>({{v[0-9]+}}); // the last iteration's products are done
# FIRST-NEXT: if (
# FIRST: mt::cpAsync<16>(
# FIRST: mt::cpAsyncCommit();
# FIRST-NEXT: = {{v[0-9]+}}_stage + 1 == 4
# CHECK: = [[ST:v[0-9]+_stage]] + 1 == 4 ? 0 : [[ST]] + 1;
# CHECK: mt::wgmmaWait<0>(); // the last products, still in flight
# CHECK-NEXT: mt::fenceOperands([[ACC]]);
# CHECK: mt::wgmmaAccumulateRegA<mt::bf16, 64, 64, 64, 128, false, mt_wgmma_m64n64k16_bf16_rs_nmajor, -1>(
# 8 warps want 128 rows: a 64-row tile stays on mma.sync.
# MMA-NOT: wgmma
# MMA: mt::mmaAccumulate<mt::bf16, 64, 64, 32,
import triton
import triton.language as tl


@triton.jit
def two_dots(a, b, c, KT: tl.constexpr):
    rm = tl.arange(0, 64)
    rk = tl.arange(0, 32)
    acc = tl.zeros((64, 64), dtype=tl.float32)
    for k in range(0, KT):
        x = tl.load(a + rm[:, None] * 128 + k * 32 + rk[None, :])
        y = tl.load(b + (k * 32 + rk[:, None]) * 64 + rm[None, :])
        acc = tl.dot(x, y, acc)
    out = tl.zeros((64, 64), dtype=tl.float32)
    for k in range(0, 2):
        w = tl.load(b + (k * 64 + rm[:, None]) * 64 + rm[None, :])
        out = tl.dot(acc.to(tl.bfloat16), w, out)
    tl.store(c + rm[:, None] * 64 + rm[None, :], out)

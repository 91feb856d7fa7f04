# A matmul's epilogue that reads another tile (Newton-Schulz: ALPHA * P @ Q + BETA * R): R is loaded straight
# into the accumulator's fragment layout (pairs of adjacent columns, as the store writes them) instead of the
# accumulator going through shared memory to the blocked layout; and shared memory used outside the ring's
# loop overlaps the ring (the kernel asks for the ring's 3 x (64x64 + 64x64) bf16 slots plus one, no more).
# RUN: %mtc %s -k epilogue p=*bf16:4096 q=*bf16:4096 r=*bf16:4096 o=*bf16:4096 K=64 --num-warps 4 --num-stages 3 --wgmma --emit=cuda --no-line-directives | FileCheck %s
# RUN: %mtc %s -k epilogue_sum p=*bf16:4096 q=*bf16:4096 r=*bf16:4096 o=*bf16:4096 K=64 --num-warps 4 --num-stages 3 --wgmma --emit=cuda --no-line-directives | FileCheck %s --check-prefix=SUM
# CHECK: unsigned char mt_smem[]; // 65536 bytes
# CHECK-NOT: frag -> blocked
# CHECK: mt::wgmmaWait<0>();
# CHECK: const int L = mt::nonNeg(mt::fragLinear<64, 64, 4, 1>(mt_tid, i));
# CHECK: mt::loadVec<2>(&[[R:v[0-9]+]][mt_g], mt_p0);
# CHECK: mt::cvt<mt::f32>([[R]][i]);
# The bf16 result goes through shared memory once more, to be stored 16 bytes a thread (rows padded to 72).
# CHECK: // fragments -> blocked through shared memory, stored 16 bytes a group
# CHECK: mt::storePair(&{{v[0-9]+}}_st[mt::fragIndex<64, 64, 4, 1, 72>(mt_tid, i)],
# CHECK: mt::storeVec<8>(mt_p0, mt_t);
# A tile that something else reads as well (a row sum) stays blocked: the accumulator is converted once, in
# shared memory that overlaps the ring's (64 x 64 floats, less than the ring).
# SUM: unsigned char mt_smem[]; // 65536 bytes
# SUM: wgmmaWait<0>();
# SUM: // frag -> blocked through shared memory
# SUM: reinterpret_cast<mt::f32 *>(mt_smem + 0);
import triton
import triton.language as tl


@triton.jit
def _product(p, q, K):
    m = tl.arange(0, 64)
    k = tl.arange(0, 64)
    acc = tl.zeros((64, 64), dtype=tl.float32)
    for k0 in range(0, K, 64):
        a = tl.load(p + m[:, None] * K + (k0 + k)[None, :])
        b = tl.load(q + (k0 + k)[:, None] * 64 + m[None, :])
        acc = tl.dot(a, b, acc)
    return acc


@triton.jit
def epilogue(p, q, r, o, K):
    m = tl.arange(0, 64)
    acc = _product(p, q, K)
    res = tl.load(r + m[:, None] * 64 + m[None, :])
    out = acc * 2.0 + res.to(tl.float32) * -0.5
    tl.store(o + m[:, None] * 64 + m[None, :], out.to(tl.bfloat16))


@triton.jit
def epilogue_sum(p, q, r, o, K):
    m = tl.arange(0, 64)
    acc = _product(p, q, K)
    res = tl.load(r + m[:, None] * 64 + m[None, :]).to(tl.float32)
    out = acc + res + tl.sum(res, axis=1)[:, None]
    tl.store(o + m[:, None] * 64 + m[None, :], out.to(tl.bfloat16))

# mbarrier rings (mtc --wgmma --mbarrier; the runtime's default with wgmma): a loop of two synchronous warpgroup MMAs
# (attention's shape: S = q @ k, then P = S as bf16 from registers @ v) signals its ring slots through
# full/empty mbarriers: no block-wide barrier inside the loop, the ring one slot deeper (3 stages, 4 slots),
# each thread arriving on `full` twice per fill (its copies landed; issued) and on `empty` once it is done.
# Two warpgroups (8 warps): on one, the loop keeps its block-wide barrier.
# RUN: %mtc %s -k attn_like q=*bf16:8192 k=*bf16:8192 v=*bf16:8192 o=*fp32:8192 NT=4 --num-warps 8 --num-stages 3 --wgmma --mbarrier --emit=cuda --no-line-directives | FileCheck %s
# RUN: %mtc %s -k attn_like q=*bf16:8192 k=*bf16:8192 v=*bf16:8192 o=*fp32:8192 NT=4 --num-warps 8 --num-stages 3 --wgmma --emit=cuda --no-line-directives | FileCheck %s --check-prefix=PLAIN
# CHECK: __syncthreads(); // an enclosing loop's last reads of the region are done
# CHECK: mt::mbarInit(&[[FULL:v[0-9]+_full]][s], 512);
# CHECK-NEXT: mt::mbarInit(&[[EMPTY:v[0-9]+_empty]][s], 256);
# CHECK: mt::fenceProxyAsync();
# CHECK-NEXT: __syncthreads();
# CHECK: mt::cpAsyncArrive(&[[FULL]][0]); mt::mbarArrive(&[[FULL]][0]);
# CHECK: mt::cpAsyncArrive(&[[FULL]][1]); mt::mbarArrive(&[[FULL]][1]);
# CHECK: for (
# CHECK-NOT: __syncthreads
# CHECK: mt::mbarWait(&[[FULL]][[[ST:v[0-9]+_stage]]], ([[IT:v[0-9]+_iter]] / 4) & 1);
# CHECK: const int mt_fill = ([[IT]] + 2) / 4;
# CHECK-NEXT: if (mt_fill > 0) mt::mbarWait(&[[EMPTY]][([[ST]] + 2) % 4], (mt_fill - 1) & 1);
# CHECK: mt::cpAsyncArrive(&[[FULL]][([[ST]] + 2) % 4]); mt::mbarArrive(&[[FULL]][([[ST]] + 2) % 4]);
# CHECK: mt::wgmmaAccumulate<
# CHECK: mt::wgmmaAccumulateRegA<
# CHECK-NEXT: mt::mbarArrive(&[[EMPTY]][[[ST]]]); // this thread is done with the slot
# CHECK: [[IT]] += 1;
# Without --mbarrier: the ring's block-wide barrier, 3 slots.
# PLAIN-NOT: mbar
# PLAIN: mt::cpAsyncWait<1>(); // this iteration's slots have landed
# PLAIN: % 3) *
import triton
import triton.language as tl


@triton.jit
def attn_like(q, k, v, o, NT: tl.constexpr):
    rm = tl.arange(0, 128)
    rd = tl.arange(0, 64)
    rn = tl.arange(0, 32)
    qt = tl.load(q + rm[:, None] * 64 + rd[None, :])
    acc = tl.zeros((128, 64), dtype=tl.float32)
    for t in range(0, NT):
        kt = tl.load(k + (t * 64 + rd[:, None]) * 32 + rn[None, :])
        s = tl.dot(qt, kt)
        vt = tl.load(v + (t * 32 + rn[:, None]) * 64 + rd[None, :])
        acc = tl.dot(s.to(tl.bfloat16), vt, acc)
    tl.store(o + rm[:, None] * 64 + rd[None, :], acc)

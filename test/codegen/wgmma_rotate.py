# Rotated loops (mtc --rotate; the runtime's default with mbarrier rings): in a ring loop of two warpgroup MMAs
# whose second takes A from registers and accumulates into a loop-carried value through a rescale
# (attention: acc = P @ V + acc * alpha), iteration i issues S_i = q @ k_i, then P_{i-1} @ V_{i-1} (an empty
# group in the first iteration), waits for S_i alone (wait_group 1) and for P_{i-1} @ V_{i-1} only after the
# code between the dots (pinned there by orderAfter), then releases the slot of iteration i - 1. The rescale
# moves to the top of the body, by the factor carried from the iteration before (one at first); P and the
# factor are carried; after the loop, if it ran, the last iteration's rescale and product. The two dots' ring
# operands have their own full/empty barriers (LoopPipe::split): k's slot is released once S is done and
# refilled after S's issue, v's slot released after its product and refilled then.
# RUN: %mtc %s -k attn_like q=*bf16:8192 k=*bf16:8192 v=*bf16:8192 o=*fp32:8192 NT=4 --num-warps 8 --num-stages 3 --wgmma --mbarrier --rotate --emit=cuda --no-line-directives | FileCheck %s
# RUN: %mtc %s -k attn_like q=*bf16:8192 k=*bf16:8192 v=*bf16:8192 o=*fp32:8192 NT=4 --num-warps 8 --num-stages 3 --wgmma --mbarrier --emit=cuda --no-line-directives | FileCheck %s --check-prefix=PLAIN
# CHECK: unsigned [[P:v[0-9]+_pprev]][8] = {};
# CHECK: mt::f32 [[X:v[0-9]+_xprev]][32];
# CHECK: [[X]][i] = mt::cvt<mt::f32>(1.0f);
# CHECK: for (
# CHECK: [[ACC:v[0-9]+]][i] = mt::mul([[ACC]][i], [[X]][i]);
# CHECK: mt::mbarWait(&[[FULL:v[0-9]+_full]][[[ST:v[0-9]+_stage]]], ([[IT:v[0-9]+_iter]] / 4) & 1);
# CHECK: mt::wgmmaAccumulate<{{.*}}, -1>({{.*}}, [[S:v[0-9]+]], mt_wg);
# CHECK-NEXT: if ([[IT]] > 0) {
# CHECK-NEXT: mt::mbarWait(&[[FULLB:v[0-9]+_fullB]][([[ST]] == 0 ? 3 : [[ST]] - 1)], (([[IT]] - 1) / 4) & 1);
# CHECK-NEXT: *[[SB:v[0-9]+_sb]] = {{.*}}([[ST]] == 0 ? 3 : [[ST]] - 1) *
# CHECK-NEXT: mt::wgmmaAccumulateRegA<{{.*}}, -1>([[P]], [[SB]], [[ACC]], mt_wg);
# CHECK-NEXT: } else {
# CHECK-NEXT: mt::wgmmaCommit();
# CHECK: mt::cpAsyncArrive(&[[FULL]][([[ST]] + 2) % 4]);
# CHECK: mt::wgmmaWait<1>([[S]]);
# CHECK-NEXT: mt::mbarArrive(&{{v[0-9]+_empty}}[[[ST]]]);
# CHECK: [[P]]_next[i] = mt::packPair([[PV:v[0-9]+]][2 * i], [[PV]][2 * i + 1]);
# CHECK: mt::orderAfter([[P]]_next);
# CHECK-NEXT: mt::wgmmaWait<0>([[ACC]]);
# CHECK-NEXT: if ([[IT]] > 0) mt::mbarArrive(&[[EMPTYB:v[0-9]+_emptyB]][([[ST]] == 0 ? 3 : [[ST]] - 1)]);
# CHECK: if (mt_fill > 0) mt::mbarWait(&[[EMPTYB]][([[ST]] + 2) % 4], (mt_fill - 1) & 1);
# CHECK: mt::cpAsyncArrive(&[[FULLB]][([[ST]] + 2) % 4]);
# CHECK: mt::fenceOperands([[P]]);
# CHECK: [[P]][i] = [[P]]_next[i];
# CHECK: [[X]][i] = v{{[0-9]+}}[i];
# CHECK: [[IT]] += 1;
# CHECK: if ([[IT]] > 0) {
# CHECK: [[ACC]][i] = mt::mul([[ACC]][i], [[X]][i]);
# CHECK: mt::wgmmaAccumulateRegA<{{[^>]*}}>([[P]], {{v[0-9]+_sb}}, [[ACC]], mt_wg);
# CHECK-NEXT: mt::mbarArrive(&[[EMPTYB]][([[ST]] == 0 ? 3 : [[ST]] - 1)]);
# Without --rotate: P @ V where it stands, waited for there, its slot released right after.
# PLAIN-NOT: _pprev
# PLAIN: mt::wgmmaAccumulateRegA<
# PLAIN-NEXT: mt::mbarArrive(&{{v[0-9]+_empty}}[{{v[0-9]+_stage}}]); // this thread is done with the slot
import triton
import triton.language as tl


@triton.jit
def attn_like(q, k, v, o, NT: tl.constexpr):
    rm = tl.arange(0, 128)
    rd = tl.arange(0, 64)
    rn = tl.arange(0, 32)
    qt = tl.load(q + rm[:, None] * 64 + rd[None, :])
    acc = tl.zeros((128, 64), dtype=tl.float32)
    m = tl.zeros((128,), dtype=tl.float32)
    for t in range(0, NT):
        kt = tl.load(k + (t * 64 + rd[:, None]) * 32 + rn[None, :])
        s = tl.dot(qt, kt)
        m_new = tl.maximum(m, tl.max(s, 1))
        alpha = tl.math.exp2(m - m_new)
        vt = tl.load(v + (t * 32 + rn[:, None]) * 64 + rd[None, :])
        acc = tl.dot(s.to(tl.bfloat16), vt, acc * alpha[:, None])
        m = m_new
    tl.store(o + rm[:, None] * 64 + rd[None, :], acc)

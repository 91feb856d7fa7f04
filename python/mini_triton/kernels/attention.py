"""Flash attention (FlashAttention-2 style) in mini_triton's (Triton's) kernel language.

Layout: q, k, v, o, do, dq, dk, dv are contiguous (B*H, S, HEAD_D) (i.e. (B, H, S, D) contiguous); program axis 1
is the (batch, head) index, axis 0 the query (or key) block. Every kernel loads in the storage dtype, computes in
`ACC` (tl.float32, or tl.float64 for gradient checks) and stores in the output pointer's dtype. The tl.dot operands
are `DOT`: the storage dtype for 16-bit inputs (tensor cores on a GPU, ACC accumulation; the probabilities P and dS
are cast to it, as in FlashAttention), ACC for float32 / float64 inputs (an exact IEEE dot). In the loops every
tile loaded from memory feeds one dot only (a tile two dots need is loaded twice; the second load hits the
cache), so the CUDA backend's cp.async pipeline takes them.

- Forward: online softmax in base 2 (qk_scale = sm_scale * log2(e), exp2), one query block per program, looping
  over key blocks (causal: only up to the diagonal block). Stores O and the natural-log log-sum-exp
  L = logsumexp_j(sm_scale * q.k_j) per row (ACC dtype).
- Backward: a preprocess kernel delta = rowsum(dO * O); a dK/dV kernel per key block looping over the query
  blocks (causal: from the diagonal on), a dQ kernel per query block looping over the key blocks. P is recomputed
  from L, dS = P * (dP - delta).
- The softmax scales are compile-time constants (a float launch argument would be an f32 scalar, too coarse for
  the float64 gradient checks).
- Rows / columns past S are masked (S need not be a multiple of the block sizes); HEAD_D is any head size, the
  tiles span BLOCK_D = a power of 2 >= max(16, HEAD_D) columns, the ones past HEAD_D masked (loaded as 0).
"""

import mini_triton as triton
import mini_triton.language as tl

LOG2E = 1.4426950408889634
LN2 = 0.6931471805599453


@triton.jit
def attn_fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, S, QK_SCALE: tl.constexpr, BLOCK_M: tl.constexpr,
                    BLOCK_N: tl.constexpr, HEAD_D: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr,
                    ACC: tl.constexpr, DOT: tl.constexpr):
    start_m = tl.program_id(0)
    bh = tl.program_id(1)
    base = bh * S * HEAD_D
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < HEAD_D
    row_ok = offs_m < S
    q = tl.load(q_ptr + base + offs_m[:, None] * HEAD_D + offs_d[None, :], mask=row_ok[:, None] & d_ok[None, :],
                other=0.0).to(DOT)
    m_i = tl.zeros((BLOCK_M,), dtype=ACC) - 1.0e30
    l_i = tl.zeros((BLOCK_M,), dtype=ACC)
    acc = tl.zeros((BLOCK_M, BLOCK_D), dtype=ACC)
    hi = S
    if CAUSAL:
        hi = tl.minimum(S, (start_m + 1) * BLOCK_M)
    # The first key block always holds a valid key for every row (key 0 <= row), so m_i is finite after it.
    for start_n in range(0, hi, BLOCK_N):
        cols = start_n + offs_n
        kv_offs = base + cols[:, None] * HEAD_D + offs_d[None, :]
        k = tl.load(k_ptr + kv_offs, mask=(cols[:, None] < S) & d_ok[None, :], other=0.0).to(DOT)
        qk = tl.dot(q, tl.trans(k), input_precision="ieee") * QK_SCALE
        valid = cols[None, :] < S
        if CAUSAL:
            valid = valid & (offs_m[:, None] >= cols[None, :])
        qk = tl.where(valid, qk, -1.0e30)
        m_new = tl.maximum(m_i, tl.max(qk, 1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(qk - m_new[:, None])
        p = tl.where(valid, p, 0.0)
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_ptr + kv_offs, mask=(cols[:, None] < S) & d_ok[None, :], other=0.0).to(DOT)
        acc = tl.dot(p.to(DOT), v, acc * alpha[:, None], input_precision="ieee")
        m_i = m_new
    acc = acc / l_i[:, None]
    lse = (m_i + tl.log2(l_i)) * 0.6931471805599453
    tl.store(o_ptr + base + offs_m[:, None] * HEAD_D + offs_d[None, :], acc.to(o_ptr.dtype.element_ty),
             mask=row_ok[:, None] & d_ok[None, :])
    tl.store(lse_ptr + bh * S + offs_m, lse.to(lse_ptr.dtype.element_ty), mask=row_ok)


@triton.jit
def attn_bwd_preprocess_kernel(o_ptr, do_ptr, delta_ptr, S, BLOCK_M: tl.constexpr, HEAD_D: tl.constexpr,
                               BLOCK_D: tl.constexpr, ACC: tl.constexpr):
    """delta[bh, s] = sum_d dO[bh, s, d] * O[bh, s, d]."""
    start_m = tl.program_id(0)
    bh = tl.program_id(1)
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < HEAD_D
    row_ok = offs_m < S
    offs = bh * S * HEAD_D + offs_m[:, None] * HEAD_D + offs_d[None, :]
    o = tl.load(o_ptr + offs, mask=row_ok[:, None] & d_ok[None, :], other=0.0).to(ACC)
    do = tl.load(do_ptr + offs, mask=row_ok[:, None] & d_ok[None, :], other=0.0).to(ACC)
    delta = tl.sum(o * do, axis=1)
    tl.store(delta_ptr + bh * S + offs_m, delta.to(delta_ptr.dtype.element_ty), mask=row_ok)


@triton.jit
def attn_bwd_dkdv_kernel(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dk_ptr, dv_ptr, S,
                         SM_SCALE: tl.constexpr, QK_SCALE: tl.constexpr, BLOCK_M: tl.constexpr,
                         BLOCK_N: tl.constexpr, HEAD_D: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr,
                         ACC: tl.constexpr, DOT: tl.constexpr):
    """One key block per program: dV = sum_m P^T dO, dK = sm_scale * sum_m dS^T Q over the query blocks."""
    start_n = tl.program_id(0)
    bh = tl.program_id(1)
    base = bh * S * HEAD_D
    offs_n = start_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_m = tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < HEAD_D
    col_ok = offs_n < S
    kv_offs = base + offs_n[:, None] * HEAD_D + offs_d[None, :]
    k = tl.load(k_ptr + kv_offs, mask=col_ok[:, None] & d_ok[None, :], other=0.0).to(DOT)
    v = tl.load(v_ptr + kv_offs, mask=col_ok[:, None] & d_ok[None, :], other=0.0).to(DOT)
    dk = tl.zeros((BLOCK_N, BLOCK_D), dtype=ACC)
    dv = tl.zeros((BLOCK_N, BLOCK_D), dtype=ACC)
    lo = 0
    if CAUSAL:
        lo = start_n * BLOCK_N  # query rows before the key block's first key see none of its keys
    for start_m in range(lo, S, BLOCK_M):
        rows = start_m + offs_m
        row_ok = rows < S
        q_offs = base + rows[:, None] * HEAD_D + offs_d[None, :]
        qd_mask = row_ok[:, None] & d_ok[None, :]
        lse2 = tl.load(lse_ptr + bh * S + rows, mask=row_ok, other=0.0).to(ACC) * 1.4426950408889634
        delta = tl.load(delta_ptr + bh * S + rows, mask=row_ok, other=0.0).to(ACC)
        q = tl.load(q_ptr + q_offs, mask=qd_mask, other=0.0).to(DOT)
        qk = tl.dot(q, tl.trans(k), input_precision="ieee") * QK_SCALE
        valid = row_ok[:, None] & col_ok[None, :]
        if CAUSAL:
            valid = valid & (rows[:, None] >= offs_n[None, :])
        p = tl.where(valid, tl.exp2(qk - lse2[:, None]), 0.0)
        do = tl.load(do_ptr + q_offs, mask=qd_mask, other=0.0).to(DOT)
        dv = tl.dot(tl.trans(p.to(DOT)), do, dv, input_precision="ieee")
        do2 = tl.load(do_ptr + q_offs, mask=qd_mask, other=0.0).to(DOT)
        dp = tl.dot(do2, tl.trans(v), input_precision="ieee")
        ds = p * (dp - delta[:, None])
        q2 = tl.load(q_ptr + q_offs, mask=qd_mask, other=0.0).to(DOT)
        dk = tl.dot(tl.trans(ds.to(DOT)), q2, dk, input_precision="ieee")
    dk = dk * SM_SCALE
    tl.store(dk_ptr + kv_offs, dk.to(dk_ptr.dtype.element_ty), mask=col_ok[:, None] & d_ok[None, :])
    tl.store(dv_ptr + kv_offs, dv.to(dv_ptr.dtype.element_ty), mask=col_ok[:, None] & d_ok[None, :])


@triton.jit
def attn_bwd_dq_kernel(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr, S, SM_SCALE: tl.constexpr,
                       QK_SCALE: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_D: tl.constexpr,
                       BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr, ACC: tl.constexpr, DOT: tl.constexpr):
    """One query block per program: dQ = sm_scale * sum_n dS K over the key blocks."""
    start_m = tl.program_id(0)
    bh = tl.program_id(1)
    base = bh * S * HEAD_D
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < HEAD_D
    row_ok = offs_m < S
    q_offs = base + offs_m[:, None] * HEAD_D + offs_d[None, :]
    q = tl.load(q_ptr + q_offs, mask=row_ok[:, None] & d_ok[None, :], other=0.0).to(DOT)
    do = tl.load(do_ptr + q_offs, mask=row_ok[:, None] & d_ok[None, :], other=0.0).to(DOT)
    lse2 = tl.load(lse_ptr + bh * S + offs_m, mask=row_ok, other=0.0).to(ACC) * 1.4426950408889634
    delta = tl.load(delta_ptr + bh * S + offs_m, mask=row_ok, other=0.0).to(ACC)
    dq = tl.zeros((BLOCK_M, BLOCK_D), dtype=ACC)
    hi = S
    if CAUSAL:
        hi = tl.minimum(S, (start_m + 1) * BLOCK_M)
    for start_n in range(0, hi, BLOCK_N):
        cols = start_n + offs_n
        kv_offs = base + cols[:, None] * HEAD_D + offs_d[None, :]
        kv_mask = (cols[:, None] < S) & d_ok[None, :]
        k = tl.load(k_ptr + kv_offs, mask=kv_mask, other=0.0).to(DOT)
        qk = tl.dot(q, tl.trans(k), input_precision="ieee") * QK_SCALE
        valid = row_ok[:, None] & (cols[None, :] < S)
        if CAUSAL:
            valid = valid & (offs_m[:, None] >= cols[None, :])
        p = tl.where(valid, tl.exp2(qk - lse2[:, None]), 0.0)
        v = tl.load(v_ptr + kv_offs, mask=kv_mask, other=0.0).to(DOT)
        dp = tl.dot(do, tl.trans(v), input_precision="ieee")
        ds = p * (dp - delta[:, None])
        k2 = tl.load(k_ptr + kv_offs, mask=kv_mask, other=0.0).to(DOT)
        dq = tl.dot(ds.to(DOT), k2, dq, input_precision="ieee")
    dq = dq * SM_SCALE
    tl.store(dq_ptr + q_offs, dq.to(dq_ptr.dtype.element_ty), mask=row_ok[:, None] & d_ok[None, :])

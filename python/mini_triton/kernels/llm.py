"""LLM-training kernels in mini_triton's (Triton's) kernel language: RMSNorm, RoPE and the SwiGLU gate.

Every kernel loads its inputs in their storage dtype, computes in `ACC` (tl.float32, or tl.float64 for gradient
checks) and stores in the output pointer's dtype. The torch-facing autograd ops are in mini_triton.ops.llm.

- RMSNorm (rows of length N): y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps), one row per program; the
  backward pass writes dx per row and dW as per-program partial sums into a (num_programs, N) buffer (reduced
  afterwards, no float atomics, so the result is deterministic).
- RoPE, rotate-half convention (LLaMA / GPT-NeoX), layout (B, S, H, D): with x1 = x[..., :D/2] and
  x2 = x[..., D/2:], out = [x1*cos - x2*sin, x2*cos + x1*sin], cos/sin tables of shape (S, D/2). Q and K in one
  launch (one program per (b, s) position, all heads of both); the backward pass is the inverse rotation
  (sin -> -sin). In place when the output pointers are the inputs (each program reads before it writes and
  programs touch disjoint elements).
- SwiGLU gate h = silu(a) * b, elementwise forward / backward, and a matmul whose epilogue fuses the gate:
  a = x @ W1, b = x @ W3, h = silu(a) * b in one kernel; its dots take 16-bit operands for 16-bit inputs (DOT).
"""

import mini_triton as triton
import mini_triton.language as tl


# ----------------------------------------------------------------------------------------------------------- RMSNorm
@triton.jit
def rmsnorm_fwd_kernel(x_ptr, w_ptr, y_ptr, rstd_ptr, stride_x, stride_y, N, eps, BLOCK_N: tl.constexpr,
                       ACC: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0).to(ACC)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(ACC)
    mean_sq = tl.sum(x * x, axis=0) / N
    rstd = 1.0 / tl.sqrt(mean_sq + eps)
    y = x * rstd * w
    tl.store(y_ptr + row * stride_y + cols, y.to(y_ptr.dtype.element_ty), mask=mask)
    tl.store(rstd_ptr + row, rstd.to(rstd_ptr.dtype.element_ty))


@triton.jit
def rmsnorm_bwd_kernel(dy_ptr, x_ptr, w_ptr, rstd_ptr, dx_ptr, dw_partial_ptr, M, N, stride_dy, stride_x, stride_dx,
                       rows_per_program, BLOCK_N: tl.constexpr, ACC: tl.constexpr):
    """Program p handles rows [p * rows_per_program, (p + 1) * rows_per_program) and writes its dW partial sum
    to dw_partial[p, :]. dx = rstd * (dy*w) - x * rstd^3 * mean(dy*w*x)."""
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    col_mask = cols < N
    w = tl.load(w_ptr + cols, mask=col_mask, other=0.0).to(ACC)
    dw_acc = tl.zeros((BLOCK_N,), dtype=ACC)
    row0 = pid * rows_per_program
    row_end = tl.minimum(row0 + rows_per_program, M)  # the last program's range may be short
    for row in range(row0, row_end):
        dy = tl.load(dy_ptr + row * stride_dy + cols, mask=col_mask, other=0.0).to(ACC)
        x = tl.load(x_ptr + row * stride_x + cols, mask=col_mask, other=0.0).to(ACC)
        rstd = tl.load(rstd_ptr + row).to(ACC)
        dyw = dy * w
        c = tl.sum(dyw * x, axis=0) / N
        dx = rstd * dyw - x * (rstd * rstd * rstd * c)
        tl.store(dx_ptr + row * stride_dx + cols, dx.to(dx_ptr.dtype.element_ty), mask=col_mask)
        dw_acc += dy * x * rstd
    tl.store(dw_partial_ptr + pid * N + cols, dw_acc.to(dw_partial_ptr.dtype.element_ty), mask=col_mask)


@triton.jit
def sum_rows_kernel(in_ptr, out_ptr, R, N, BLOCK_N: tl.constexpr, ACC: tl.constexpr):
    """out[n] = sum_r in[r, n] (in is (R, N) contiguous), a fixed summation order: deterministic."""
    cols = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = cols < N
    acc = tl.zeros((BLOCK_N,), dtype=ACC)
    for r in range(0, R):
        acc += tl.load(in_ptr + r * N + cols, mask=mask, other=0.0).to(ACC)
    tl.store(out_ptr + cols, acc.to(out_ptr.dtype.element_ty), mask=mask)


# -------------------------------------------------------------------------------------------------------------- RoPE
@triton.jit
def _rope_rotate(x_ptr, out_ptr, stride_b, stride_s, stride_h, ostride_b, ostride_s, ostride_h, b, s, H, cos, sin,
                 HALF, BLOCK_H: tl.constexpr, BLOCK_HALF: tl.constexpr, ACC: tl.constexpr):
    heads = tl.arange(0, BLOCK_H)
    d = tl.arange(0, BLOCK_HALF)
    mask = (heads[:, None] < H) & (d[None, :] < HALF)
    offs = b * stride_b + s * stride_s + heads[:, None] * stride_h + d[None, :]
    x1 = tl.load(x_ptr + offs, mask=mask, other=0.0).to(ACC)
    x2 = tl.load(x_ptr + offs + HALF, mask=mask, other=0.0).to(ACC)
    o1 = x1 * cos[None, :] - x2 * sin[None, :]
    o2 = x2 * cos[None, :] + x1 * sin[None, :]
    ooffs = b * ostride_b + s * ostride_s + heads[:, None] * ostride_h + d[None, :]
    tl.store(out_ptr + ooffs, o1.to(out_ptr.dtype.element_ty), mask=mask)
    tl.store(out_ptr + ooffs + HALF, o2.to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def rope_kernel(q_ptr, k_ptr, q_out_ptr, k_out_ptr, cos_ptr, sin_ptr, S, HQ, HK, HALF, stride_qb, stride_qs,
                stride_qh, stride_kb, stride_ks, stride_kh, stride_qob, stride_qos, stride_qoh, stride_kob, stride_kos,
                stride_koh, stride_cs, BLOCK_HQ: tl.constexpr, BLOCK_HK: tl.constexpr, BLOCK_HALF: tl.constexpr,
                BACKWARD: tl.constexpr, ACC: tl.constexpr):
    """One program per (b, s): rotates all HQ heads of q and all HK heads of k (last dim contiguous, size
    2 * HALF). cos/sin are (>= S, HALF) tables with row stride stride_cs. BACKWARD applies the inverse rotation
    (the gradient of the forward one)."""
    pid = tl.program_id(0)
    b = pid // S
    s = pid % S
    d = tl.arange(0, BLOCK_HALF)
    dmask = d < HALF
    cos = tl.load(cos_ptr + s * stride_cs + d, mask=dmask, other=0.0).to(ACC)
    sin = tl.load(sin_ptr + s * stride_cs + d, mask=dmask, other=0.0).to(ACC)
    if BACKWARD:
        sin = -sin
    _rope_rotate(q_ptr, q_out_ptr, stride_qb, stride_qs, stride_qh, stride_qob, stride_qos, stride_qoh, b, s, HQ, cos,
                 sin, HALF, BLOCK_HQ, BLOCK_HALF, ACC)
    _rope_rotate(k_ptr, k_out_ptr, stride_kb, stride_ks, stride_kh, stride_kob, stride_kos, stride_koh, b, s, HK, cos,
                 sin, HALF, BLOCK_HK, BLOCK_HALF, ACC)


# ------------------------------------------------------------------------------------------------------------ SwiGLU
@triton.jit
def swiglu_fwd_kernel(a_ptr, b_ptr, h_ptr, n, BLOCK: tl.constexpr, ACC: tl.constexpr):
    """h = silu(a) * b over n contiguous elements."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    a = tl.load(a_ptr + offs, mask=mask, other=0.0).to(ACC)
    b = tl.load(b_ptr + offs, mask=mask, other=0.0).to(ACC)
    h = a * tl.sigmoid(a) * b
    tl.store(h_ptr + offs, h.to(h_ptr.dtype.element_ty), mask=mask)


@triton.jit
def swiglu_bwd_kernel(dh_ptr, a_ptr, b_ptr, da_ptr, db_ptr, n, BLOCK: tl.constexpr, ACC: tl.constexpr):
    """da = dh * b * sig(a) * (1 + a * (1 - sig(a))), db = dh * silu(a)."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    dh = tl.load(dh_ptr + offs, mask=mask, other=0.0).to(ACC)
    a = tl.load(a_ptr + offs, mask=mask, other=0.0).to(ACC)
    b = tl.load(b_ptr + offs, mask=mask, other=0.0).to(ACC)
    sig = tl.sigmoid(a)
    silu = a * sig
    da = dh * b * sig * (1.0 + a * (1.0 - sig))
    db = dh * silu
    tl.store(da_ptr + offs, da.to(da_ptr.dtype.element_ty), mask=mask)
    tl.store(db_ptr + offs, db.to(db_ptr.dtype.element_ty), mask=mask)


@triton.jit
def swiglu_matmul_kernel(x_ptr, w1_ptr, w3_ptr, a_ptr, b_ptr, h_ptr, M, N, K, stride_xm, stride_xk, stride_w1k,
                         stride_w1n, stride_w3k, stride_w3n, stride_om, stride_on, BLOCK_M: tl.constexpr,
                         BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, STORE_AB: tl.constexpr, ACC: tl.constexpr,
                         DOT: tl.constexpr):
    """a = x @ W1, b = x @ W3 (x: (M, K), W1/W3: (K, N)) accumulated in ACC, epilogue h = silu(a) * b; a and b
    are stored too when STORE_AB (the backward pass needs them). a, b, h share the output strides.

    The dot operands are DOT: the storage dtype for 16-bit inputs (tensor cores on a GPU, ACC accumulation), ACC
    for float32 / float64 ones (an exact IEEE dot). The x tile is loaded once per dot, so that each dot's operands
    are loads of the K loop used by it alone (the CUDA backend's cp.async pipeline takes those; the second load
    of the tile hits the cache)."""
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc_a = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    acc_b = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        kk = k * BLOCK_K + offs_k
        x_ptrs = x_ptr + offs_m[:, None] * stride_xm + kk[None, :] * stride_xk
        xmask = (offs_m[:, None] < M) & (kk[None, :] < K)
        wmask = (kk[:, None] < K) & (offs_n[None, :] < N)
        xa = tl.load(x_ptrs, mask=xmask, other=0.0).to(DOT)
        w1 = tl.load(w1_ptr + kk[:, None] * stride_w1k + offs_n[None, :] * stride_w1n, mask=wmask, other=0.0).to(DOT)
        acc_a = tl.dot(xa, w1, acc_a, input_precision="ieee")
        xb = tl.load(x_ptrs, mask=xmask, other=0.0).to(DOT)
        w3 = tl.load(w3_ptr + kk[:, None] * stride_w3k + offs_n[None, :] * stride_w3n, mask=wmask, other=0.0).to(DOT)
        acc_b = tl.dot(xb, w3, acc_b, input_precision="ieee")
    h = acc_a * tl.sigmoid(acc_a) * acc_b
    offs = offs_m[:, None] * stride_om + offs_n[None, :] * stride_on
    omask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    tl.store(h_ptr + offs, h.to(h_ptr.dtype.element_ty), mask=omask)
    if STORE_AB:
        tl.store(a_ptr + offs, acc_a.to(a_ptr.dtype.element_ty), mask=omask)
        tl.store(b_ptr + offs, acc_b.to(b_ptr.dtype.element_ty), mask=omask)

"""Flash-attention forward for 16-bit inputs: O = softmax(Q K^T * sm_scale) V over [Z, H, N_CTX, HEAD_DIM] tensors
sharing the four strides. Differs from examples/kernels/attention.py where bf16 needs it: the probabilities are
cast to V's dtype before the second dot (Triton's tl.dot wants both operands of one dtype, and a 16-bit dot runs
on the tensor cores), the output is cast to Out's element type before the store, and K blocks are loaded as
stored (BLOCK_N rows of HEAD_DIM, contiguous) and transposed with tl.trans for q @ k^T.

No bounds masks: N_CTX must be a multiple of BLOCK_M and BLOCK_N (the bench checks it). With CAUSAL, key blocks
left of the query block's diagonal run without the mask; only the blocks that cross it are masked.
"""
import triton
import triton.language as tl


@triton.jit
def attn_fwd_bf16_kernel(Q, K, V, Out, qk_scale,
                         stride_z, stride_h, stride_s, stride_d,
                         H, N_CTX,
                         HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                         CAUSAL: tl.constexpr):
    start_m = tl.program_id(0)
    off_hz = tl.program_id(1)
    base = (off_hz // H) * stride_z + (off_hz % H) * stride_h
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    q = tl.load(Q + base + offs_m[:, None] * stride_s + offs_d[None, :] * stride_d)
    m_i = tl.zeros([BLOCK_M], dtype=tl.float32) - float("inf")
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    scale = qk_scale * 1.44269504  # exp(x) = exp2(x / ln 2)

    if CAUSAL:
        full_end = start_m * BLOCK_M  # key blocks entirely at or below the diagonal of every query row
        hi = (start_m + 1) * BLOCK_M
    else:
        full_end = N_CTX
        hi = N_CTX
    for start_n in range(0, full_end, BLOCK_N):
        cols = start_n + offs_n
        k = tl.load(K + base + cols[:, None] * stride_s + offs_d[None, :] * stride_d)
        qk = tl.dot(q, tl.trans(k)) * scale
        m_new = tl.maximum(m_i, tl.max(qk, 1))
        p = tl.math.exp2(qk - m_new[:, None])
        alpha = tl.math.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(V + base + cols[:, None] * stride_s + offs_d[None, :] * stride_d)
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])
        m_i = m_new
    if CAUSAL:
        for start_n in range(full_end, hi, BLOCK_N):
            cols = start_n + offs_n
            k = tl.load(K + base + cols[:, None] * stride_s + offs_d[None, :] * stride_d)
            qk = tl.dot(q, tl.trans(k)) * scale
            qk = tl.where(offs_m[:, None] >= cols[None, :], qk, -1.0e6)
            m_new = tl.maximum(m_i, tl.max(qk, 1))
            p = tl.math.exp2(qk - m_new[:, None])
            alpha = tl.math.exp2(m_i - m_new)
            l_i = l_i * alpha + tl.sum(p, 1)
            v = tl.load(V + base + cols[:, None] * stride_s + offs_d[None, :] * stride_d)
            acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])
            m_i = m_new

    out = acc / l_i[:, None]
    tl.store(Out + base + offs_m[:, None] * stride_s + offs_d[None, :] * stride_d, out.to(Out.dtype.element_ty))

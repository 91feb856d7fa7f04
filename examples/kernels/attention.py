"""Flash-attention forward: O = softmax(Q K^T * sm_scale) V, one program per (BLOCK_M queries, head).

Q, K, V and O share one layout [Z, H, N_CTX, HEAD_DIM] described by the four strides. The softmax is
computed online over BLOCK_N-wide key blocks in base 2: scores are scaled by qk_scale * log2(e) and
exponentiated with exp2. With CAUSAL, query i attends to keys j <= i only.
"""
# mtc-run: attn_fwd_kernel Q=*fp32:4288 K=*fp32:4288 V=*fp32:4288 Out=*fp32:4288 qk_scale=fp32:0.17677669 stride_z=i32:4288 stride_h=i32:2144 stride_s=i32:32 stride_d=i32:1 H=i32:2 N_CTX=i32:67 HEAD_DIM=32 BLOCK_M=16 BLOCK_N=16 CAUSAL=True grid=5,2
import triton
import triton.language as tl


@triton.jit
def attn_fwd_kernel(Q, K, V, Out, qk_scale,
                    stride_z, stride_h, stride_s, stride_d,
                    H, N_CTX,
                    HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                    CAUSAL: tl.constexpr):
    start_m = tl.program_id(0)
    off_hz = tl.program_id(1)
    off_z = off_hz // H
    off_h = off_hz % H
    qkv_offset = off_z * stride_z + off_h * stride_h

    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    q_ptrs = Q + qkv_offset + offs_m[:, None] * stride_s + offs_d[None, :] * stride_d
    q = tl.load(q_ptrs, mask=offs_m[:, None] < N_CTX, other=0.0)

    # Running row max (base-2 units), running denominator and the unnormalised output.
    m_i = tl.zeros([BLOCK_M], dtype=tl.float32) - float("inf")
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32) + 1.0
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    qk_scale = qk_scale * 1.44269504  # 1 / ln(2)

    if CAUSAL:
        hi = tl.minimum((start_m + 1) * BLOCK_M, N_CTX)
    else:
        hi = N_CTX
    for start_n in range(0, hi, BLOCK_N):
        cols = start_n + offs_n
        # K^T tile: [HEAD_DIM, BLOCK_N].
        kt_ptrs = K + qkv_offset + cols[None, :] * stride_s + offs_d[:, None] * stride_d
        kt = tl.load(kt_ptrs, mask=cols[None, :] < N_CTX, other=0.0)
        qk = tl.dot(q, kt)
        valid = cols[None, :] < N_CTX
        if CAUSAL:
            valid = valid & (offs_m[:, None] >= cols[None, :])
        qk = qk * qk_scale + tl.where(valid, 0.0, -1.0e6)
        m_ij = tl.maximum(m_i, tl.max(qk, 1))
        qk = qk - m_ij[:, None]
        p = tl.math.exp2(qk)
        l_ij = tl.sum(p, 1)
        # Rescale what was accumulated under the old maximum.
        alpha = tl.math.exp2(m_i - m_ij)
        l_i = l_i * alpha + l_ij
        acc = acc * alpha[:, None]
        v_ptrs = V + qkv_offset + cols[:, None] * stride_s + offs_d[None, :] * stride_d
        v = tl.load(v_ptrs, mask=cols[:, None] < N_CTX, other=0.0)
        acc = tl.dot(p, v, acc)
        m_i = m_ij

    acc = acc / l_i[:, None]
    o_ptrs = Out + qkv_offset + offs_m[:, None] * stride_s + offs_d[None, :] * stride_d
    tl.store(o_ptrs, acc, mask=offs_m[:, None] < N_CTX)

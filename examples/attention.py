"""Causal flash attention forward (online softmax, Triton tutorial 06 style) on mini_triton, checked vs NumPy
float64."""

import math
import sys

import numpy as np

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def attn_fwd_kernel(Q, K, V, Out, sm_scale, stride_qh, stride_qm, stride_kh, stride_kn, stride_vh, stride_vn,
                    stride_oh, stride_om, seq_len, HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr,
                    BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr):
    start_m = tl.program_id(0)
    off_h = tl.program_id(1)
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    q = tl.load(Q + off_h * stride_qh + offs_m[:, None] * stride_qm + offs_d[None, :],
                mask=offs_m[:, None] < seq_len, other=0.0)
    m_i = tl.zeros((BLOCK_M,), dtype=tl.float32) - float("inf")
    l_i = tl.zeros((BLOCK_M,), dtype=tl.float32)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), dtype=tl.float32)
    qk_scale = sm_scale * 1.44269504  # exp(x) = exp2(x * log2(e))
    hi = seq_len
    if CAUSAL:
        hi = tl.minimum((start_m + 1) * BLOCK_M, seq_len)
    for start_n in range(0, hi, BLOCK_N):
        cols = start_n + offs_n
        k = tl.load(K + off_h * stride_kh + cols[None, :] * stride_kn + offs_d[:, None],
                    mask=cols[None, :] < seq_len, other=0.0)
        qk = tl.dot(q, k) * qk_scale
        valid = cols[None, :] < seq_len
        if CAUSAL:
            valid = valid & (offs_m[:, None] >= cols[None, :])
        qk = tl.where(valid, qk, -float("inf"))
        m_new = tl.maximum(m_i, tl.max(qk, axis=1))
        p = tl.exp2(qk - m_new[:, None])
        alpha = tl.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, axis=1)
        v = tl.load(V + off_h * stride_vh + cols[:, None] * stride_vn + offs_d[None, :],
                    mask=cols[:, None] < seq_len, other=0.0)
        acc = acc * alpha[:, None] + tl.dot(p, v)
        m_i = m_new
    acc = acc / l_i[:, None]
    tl.store(Out + off_h * stride_oh + offs_m[:, None] * stride_om + offs_d[None, :], acc,
             mask=offs_m[:, None] < seq_len)


def attention(q, k, v, causal=True):
    heads, seq_len, head_dim = q.shape
    out = np.empty_like(q)
    BLOCK_M, BLOCK_N = 32, 32
    e = q.itemsize
    grid = (triton.cdiv(seq_len, BLOCK_M), heads)
    attn_fwd_kernel[grid](q, k, v, out, 1.0 / math.sqrt(head_dim), q.strides[0] // e, q.strides[1] // e,
                          k.strides[0] // e, k.strides[1] // e, v.strides[0] // e, v.strides[1] // e,
                          out.strides[0] // e, out.strides[1] // e, seq_len, HEAD_DIM=head_dim, BLOCK_M=BLOCK_M,
                          BLOCK_N=BLOCK_N, CAUSAL=causal)
    return out


def reference(q, k, v, causal=True):
    q, k, v = (t.astype(np.float64) for t in (q, k, v))
    s = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[1]
        s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    return (s / s.sum(axis=-1, keepdims=True)) @ v


def main():
    rng = np.random.default_rng(0)
    heads, seq_len, head_dim = 3, 100, 32
    q, k, v = (rng.standard_normal((heads, seq_len, head_dim)).astype(np.float32) for _ in range(3))
    ok = True
    for causal in (True, False):
        out = attention(q, k, v, causal)
        err = float(np.max(np.abs(out - reference(q, k, v, causal))))
        passed = err <= 2e-3  # tl.dot on fp32 inputs rounds them to tf32 by default, as in Triton
        ok &= passed
        print(f"attention: heads={heads} seq={seq_len} d={head_dim} causal={causal} max abs error {err:.3e} "
              f"{'PASS' if passed else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

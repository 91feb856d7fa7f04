"""Matmul kernels for the Newton-Schulz orthogonalisation used by the Muon optimizer.

- gram_kernel: A = X X^T for X (M, K); only the tiles on or above the diagonal are computed (program (i, j) with
  j < i does nothing) and each is stored twice, at (i, j) and mirrored at (j, i): A is symmetric.
- matmul_epilogue_kernel: out = ALPHA * (P @ Q) + BETA * R (P (M, K), Q (K, N), R (M, N)); one Newton-Schulz step
  is B = c * (A @ A) + b * A, then X' = 1 * (B @ X) + a * X.
Loads in the storage dtype, feeds tl.dot operands of dtype DOT and accumulates in ACC (tl.float32, or tl.float64),
stores in the output's dtype. DOT is the storage dtype for 16-bit inputs (tl.bfloat16 / tl.float16: the dot runs on
the GPU's tensor cores, f32 accumulation) and ACC otherwise (float32 / float64 inputs: an exact IEEE dot; the
input_precision attribute only concerns f32 operands). The loads feed the dot directly inside the K loop and the
loop stores nothing, so the CUDA backend pipelines them (cp.async). ALPHA and BETA are compile-time constants (a
float launch argument would be an f32 scalar).
"""

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def gram_kernel(x_ptr, a_ptr, M, K, stride_xm, stride_xk, stride_am, stride_an, BLOCK_M: tl.constexpr,
                BLOCK_K: tl.constexpr, ACC: tl.constexpr, DOT: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    if pid_n >= pid_m:
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = pid_n * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_k = tl.arange(0, BLOCK_K)
        acc = tl.zeros((BLOCK_M, BLOCK_M), dtype=ACC)
        for k0 in range(0, K, BLOCK_K):
            kk = k0 + offs_k
            xm = tl.load(x_ptr + offs_m[:, None] * stride_xm + kk[None, :] * stride_xk,
                         mask=(offs_m[:, None] < M) & (kk[None, :] < K), other=0.0).to(DOT)
            xn = tl.load(x_ptr + offs_n[:, None] * stride_xm + kk[None, :] * stride_xk,
                         mask=(offs_n[:, None] < M) & (kk[None, :] < K), other=0.0).to(DOT)
            acc = tl.dot(xm, tl.trans(xn), acc, input_precision="ieee")
        mask = (offs_m[:, None] < M) & (offs_n[None, :] < M)
        out = acc.to(a_ptr.dtype.element_ty)
        tl.store(a_ptr + offs_m[:, None] * stride_am + offs_n[None, :] * stride_an, out, mask=mask)
        # the mirrored tile: element (m, n) of acc goes to A[n, m]
        tl.store(a_ptr + offs_n[None, :] * stride_am + offs_m[:, None] * stride_an, out, mask=mask)


@triton.jit
def matmul_epilogue_kernel(p_ptr, q_ptr, r_ptr, out_ptr, M, N, K, stride_pm, stride_pk, stride_qk, stride_qn,
                           stride_rm, stride_rn, stride_om, stride_on, ALPHA: tl.constexpr, BETA: tl.constexpr,
                           BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, ACC: tl.constexpr,
                           DOT: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    for k0 in range(0, K, BLOCK_K):
        kk = k0 + offs_k
        p = tl.load(p_ptr + offs_m[:, None] * stride_pm + kk[None, :] * stride_pk,
                    mask=(offs_m[:, None] < M) & (kk[None, :] < K), other=0.0).to(DOT)
        q = tl.load(q_ptr + kk[:, None] * stride_qk + offs_n[None, :] * stride_qn,
                    mask=(kk[:, None] < K) & (offs_n[None, :] < N), other=0.0).to(DOT)
        acc = tl.dot(p, q, acc, input_precision="ieee")
    mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    r = tl.load(r_ptr + offs_m[:, None] * stride_rm + offs_n[None, :] * stride_rn, mask=mask, other=0.0).to(ACC)
    out = acc * ALPHA + r * BETA
    tl.store(out_ptr + offs_m[:, None] * stride_om + offs_n[None, :] * stride_on, out.to(out_ptr.dtype.element_ty),
             mask=mask)

"""One Newton-Schulz step B = ALPHA * (P @ Q) + BETA * R for 16-bit matrices on the tensor cores: the operands stay
in their storage dtype for tl.dot (fp32 accumulation), unlike mini_triton.kernels.newton_schulz's
matmul_epilogue_kernel, which upcasts them to ACC and asks for an IEEE dot. Same signature as that kernel minus ACC,
plus GROUP_M (grouped program order for L2 reuse)."""
import triton
import triton.language as tl


@triton.jit
def matmul_epilogue_tc_kernel(p_ptr, q_ptr, r_ptr, out_ptr, M, N, K, stride_pm, stride_pk, stride_qk, stride_qn,
                              stride_rm, stride_rn, stride_om, stride_on, ALPHA: tl.constexpr, BETA: tl.constexpr,
                              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                              GROUP_M: tl.constexpr):
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BLOCK_M)
    tiles_n = tl.cdiv(N, BLOCK_N)
    per_group = GROUP_M * tiles_n
    first_m = (pid // per_group) * GROUP_M
    rows = tl.minimum(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % rows
    pid_n = (pid % per_group) // rows
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        kk = k0 + offs_k
        p = tl.load(p_ptr + offs_m[:, None] * stride_pm + kk[None, :] * stride_pk,
                    mask=(offs_m[:, None] < M) & (kk[None, :] < K), other=0.0)
        q = tl.load(q_ptr + kk[:, None] * stride_qk + offs_n[None, :] * stride_qn,
                    mask=(kk[:, None] < K) & (offs_n[None, :] < N), other=0.0)
        acc = tl.dot(p, q, acc)
    mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    r = tl.load(r_ptr + offs_m[:, None] * stride_rm + offs_n[None, :] * stride_rn, mask=mask, other=0.0)
    out = acc * ALPHA + r.to(tl.float32) * BETA
    tl.store(out_ptr + offs_m[:, None] * stride_om + offs_n[None, :] * stride_on, out.to(out_ptr.dtype.element_ty),
             mask=mask)

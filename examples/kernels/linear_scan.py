"""First-order linear recurrence h_t = a_t * h_{t-1} + x_t (h_{-1} = 0) as a parallel scan.

x, a and h have layout [B, D, T] with T contiguous; one program scans BLOCK_D channels of one batch
over the whole sequence (BLOCK_T >= T). The pairs (a, x) compose associatively:
(a_l, x_l) then (a_r, x_r) = (a_r * a_l, a_r * x_l + x_r).
"""
# mtc-run: linear_scan_kernel x_ptr=*fp32:3400 a_ptr=*fp32:3400 h_ptr=*fp32:3400 D=i32:17 T=i32:100 stride_b=i32:1700 stride_d=i32:100 BLOCK_D=8 BLOCK_T=128 grid=2,3
import triton
import triton.language as tl


@triton.jit
def first_order_combine(a_l, x_l, a_r, x_r):
    # Triton passes the two groups flattened: (lhs..., rhs...).
    return a_r * a_l, a_r * x_l + x_r


@triton.jit
def linear_scan_kernel(x_ptr, a_ptr, h_ptr, D, T, stride_b, stride_d,
                       BLOCK_D: tl.constexpr, BLOCK_T: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    offs_t = tl.arange(0, BLOCK_T)
    offs = pid_b * stride_b + offs_d[:, None] * stride_d + offs_t[None, :]
    mask = (offs_d[:, None] < D) & (offs_t[None, :] < T)
    # Padding steps come after every real step, so their values never reach a stored h.
    a = tl.load(a_ptr + offs, mask=mask, other=1.0)
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    _, h = tl.associative_scan((a, x), 1, first_order_combine)
    tl.store(h_ptr + offs, h, mask=mask)

"""First-order linear recurrence h_t = a_t * h_{t-1} + x_t (h_{-1} = 0) as a sequential loop.

x, a and h have layout [B, T, D] with D contiguous; one program carries the state of BLOCK_D channels
of one batch through all T steps.
"""
# mtc-run: seq_scan_kernel x_ptr=*fp32:3400 a_ptr=*fp32:3400 h_ptr=*fp32:3400 T=i32:100 D=i32:17 stride_b=i32:1700 stride_t=i32:17 BLOCK_D=8 grid=2,3
import triton
import triton.language as tl


@triton.jit
def seq_scan_kernel(x_ptr, a_ptr, h_ptr, T, D, stride_b, stride_t, BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    mask = offs_d < D
    base = pid_b * stride_b + offs_d
    h = tl.zeros([BLOCK_D], dtype=tl.float32)
    for t in range(T):
        a = tl.load(a_ptr + base + t * stride_t, mask=mask, other=0.0)
        x = tl.load(x_ptr + base + t * stride_t, mask=mask, other=0.0)
        h = a * h + x
        tl.store(h_ptr + base + t * stride_t, h, mask=mask)

"""Kernels shared by the tests, written exactly as for Triton (only the imports differ)."""

import mini_triton as triton
import mini_triton.language as tl

SCALE_DEFAULT = 2


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, x + y, mask=mask)


@triton.jit
def scaled_copy_kernel(x_ptr, out_ptr, n, stride, scale, BLOCK: tl.constexpr):
    """out[i] = x[i * stride] * scale (strided reads)."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs * stride, mask=mask)
    tl.store(out_ptr + offs, x * scale, mask=mask)


@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_row_stride, out_row_stride, n_cols, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_row_stride + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    num = tl.exp(x)
    den = tl.sum(num, axis=0)
    tl.store(out_ptr + row * out_row_stride + cols, num / den, mask=mask)


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                  INPUT_PRECISION: tl.constexpr = "ieee"):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        kk = k * BLOCK_K + offs_k
        a = tl.load(a_ptr + offs_m[:, None] * stride_am + kk[None, :] * stride_ak,
                    mask=(offs_m[:, None] < M) & (kk[None, :] < K), other=0.0)
        b = tl.load(b_ptr + kk[:, None] * stride_bk + offs_n[None, :] * stride_bn,
                    mask=(kk[:, None] < K) & (offs_n[None, :] < N), other=0.0)
        acc += tl.dot(a, b, input_precision=INPUT_PRECISION)
    c_ptrs = c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    tl.store(c_ptrs, acc, mask=(offs_m[:, None] < M) & (offs_n[None, :] < N))


@triton.jit
def _square(x):
    return x * x


@triton.jit
def _sum_of_squares(a, b):
    return _square(a) + _square(b)


@triton.jit
def helper_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    """out = x^2 + y^2 * SCALE_DEFAULT through nested @jit helpers and a module constant."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, _sum_of_squares(x, y) + y * y * (SCALE_DEFAULT - 1), mask=mask)


@triton.jit
def fill_kernel(out_ptr, n, value, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.zeros((BLOCK,), dtype=tl.float32) + value, mask=offs < n)


@triton.jit
def grid_2d_kernel(out_ptr, n_cols):
    """out[pid1, pid0] = pid1 * 1000 + pid0 (int32), one program per element."""
    col = tl.program_id(0)
    row = tl.program_id(1)
    tl.store(out_ptr + row * n_cols + col, row * 1000 + col)


@triton.jit
def oob_kernel(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs) + 1.0)  # no mask: out of bounds when n < BLOCK


@triton.jit
def optional_ptr_kernel(x_ptr, bias_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    if bias_ptr is not None:
        x += tl.load(bias_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x, mask=mask)


@triton.jit
def _linear_combine(a_l, x_l, a_r, x_r):
    """(a, x) pairs compose as h -> a_r * (a_l * h + x_l) + x_r."""
    return a_l * a_r, x_l * a_r + x_r


@triton.jit
def rnn_scan_kernel(x_ptr, a_ptr, h_ptr, T, BLOCK_T: tl.constexpr):
    """h_t = a_t * h_{t-1} + x_t along the last axis (one row per program), h_{-1} = 0."""
    row = tl.program_id(0)
    t = tl.arange(0, BLOCK_T)
    mask = t < T
    x = tl.load(x_ptr + row * T + t, mask=mask, other=0.0)
    a = tl.load(a_ptr + row * T + t, mask=mask, other=1.0)
    _, h = tl.associative_scan((a, x), axis=0, combine_fn=_linear_combine)
    tl.store(h_ptr + row * T + t, h, mask=mask)


@triton.jit
def cumsum_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0)
    tl.store(out_ptr + offs, tl.cumsum(x, axis=0), mask=offs < n)


@triton.jit
def round_trip_kernel(x_ptr, out_ptr, n, DT: tl.constexpr, BLOCK: tl.constexpr):
    """out = x rounded through the dtype DT (a dtype constexpr)."""
    offs = tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x.to(DT).to(tl.float32), mask=mask)


@triton.jit
def row_broadcast_load_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    """out[i, j] = x[j] where i + j < n: a row of pointers broadcast to its 2-D mask's shape (Triton's load)."""
    r = tl.arange(0, BLOCK)
    mask = (r[:, None] + r[None, :]) < n
    x = tl.load(x_ptr + r[None, :], mask=mask, other=-1.0)
    tl.store(out_ptr + r[:, None] * BLOCK + r[None, :], x)

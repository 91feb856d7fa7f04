"""End-to-end: Triton kernels through mini_triton's Python API on the CPU, vs NumPy float64 references."""

import numpy as np
import pytest

import mini_triton as triton
from kernels import (add_kernel, cumsum_kernel, helper_kernel, matmul_kernel, optional_ptr_kernel, rnn_scan_kernel,
                     scaled_copy_kernel, softmax_kernel)


@pytest.mark.parametrize("n", [1, 17, 1000, 4099])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_vector_add(rng, n, dtype):
    x = (rng.standard_normal(n) * 100).astype(dtype)
    y = (rng.standard_normal(n) * 100).astype(dtype)
    out = np.full(n, -7, dtype=dtype)
    add_kernel[(triton.cdiv(n, 256),)](x, y, out, n, BLOCK_SIZE=256)
    ref = x.astype(np.float64) + y.astype(np.float64)
    np.testing.assert_allclose(out.astype(np.float64), ref, rtol=1e-6, atol=1e-4)


def test_vector_add_float16(rng):
    n = 333
    x = rng.standard_normal(n).astype(np.float16)
    y = rng.standard_normal(n).astype(np.float16)
    out = np.zeros(n, dtype=np.float16)
    add_kernel[(triton.cdiv(n, 64),)](x, y, out, n, BLOCK_SIZE=64)
    np.testing.assert_allclose(out.astype(np.float64), x.astype(np.float64) + y.astype(np.float64), atol=2e-3)


def test_strided_view_is_read_through_the_underlying_storage(rng):
    base = rng.standard_normal(2 * 41 + 1).astype(np.float32)
    view = base[1::2]  # non-contiguous view: its pointer, bounds-checked against the rest of the allocation
    out = np.zeros(41, dtype=np.float32)
    scaled_copy_kernel[(triton.cdiv(41, 16),)](view, out, 41, 2, 1.5, BLOCK=16)
    np.testing.assert_allclose(out, base[1::2].astype(np.float64) * 1.5, rtol=1e-6)


@pytest.mark.parametrize("rows,cols", [(1, 1), (7, 33), (64, 100), (5, 1023)])
def test_softmax(rng, rows, cols):
    x = (rng.standard_normal((rows, cols)) * 5).astype(np.float32)
    out = np.empty_like(x)
    block = triton.next_power_of_2(cols)
    softmax_kernel[(rows,)](out, x, x.strides[0] // 4, out.strides[0] // 4, cols, BLOCK_SIZE=block)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("M,N,K", [(16, 16, 16), (33, 17, 45), (70, 50, 9)])
def test_matmul(rng, M, N, K):
    """fp32 dot with input_precision="ieee" (a string constexpr with a default) matches float64 closely."""
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    c = np.full((M, N), np.nan, dtype=np.float32)
    grid = lambda meta: (triton.cdiv(M, meta["BLOCK_M"]), triton.cdiv(N, meta["BLOCK_N"]))
    matmul_kernel[grid](a, b, c, M, N, K, a.strides[0] // 4, a.strides[1] // 4, b.strides[0] // 4,
                        b.strides[1] // 4, c.strides[0] // 4, c.strides[1] // 4, BLOCK_M=32, BLOCK_N=16, BLOCK_K=16)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-4)


def test_matmul_tf32_precision(rng):
    """Triton's default tl.dot precision for fp32 is tf32 (10-bit mantissa inputs): close, not exact."""
    M, N, K = 32, 32, 64
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    c = np.zeros((M, N), dtype=np.float32)
    matmul_kernel[(2, 2)](a, b, c, M, N, K, K, 1, N, 1, N, 1, BLOCK_M=16, BLOCK_N=16, BLOCK_K=16,
                          INPUT_PRECISION="tf32")
    ref = a.astype(np.float64) @ b.astype(np.float64)
    err = np.abs(c - ref).max()
    assert 1e-6 < err < 5e-2, err  # tf32 rounding is visible but small


def test_matmul_transposed_input(rng):
    M, N, K = 20, 24, 30
    a = rng.standard_normal((K, M)).astype(np.float32).T  # a non-contiguous view
    b = rng.standard_normal((K, N)).astype(np.float32)
    c = np.zeros((M, N), dtype=np.float32)
    matmul_kernel[(triton.cdiv(M, 16), triton.cdiv(N, 16))](
        a, b, c, M, N, K, a.strides[0] // 4, a.strides[1] // 4, b.strides[0] // 4, b.strides[1] // 4,
        c.strides[0] // 4, c.strides[1] // 4, BLOCK_M=16, BLOCK_N=16, BLOCK_K=16)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-4)


def test_nested_helpers_and_module_constant(rng):
    n = 300
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    out = np.zeros(n, dtype=np.float32)
    helper_kernel[(triton.cdiv(n, 128),)](x, y, out, n, BLOCK=128)
    np.testing.assert_allclose(out, x.astype(np.float64) ** 2 + 2 * y.astype(np.float64) ** 2, rtol=1e-5)


def test_none_for_optional_pointer(rng):
    n = 77
    x = rng.standard_normal(n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    out = np.zeros(n, dtype=np.float32)
    optional_ptr_kernel[(triton.cdiv(n, 32),)](x, None, out, n, BLOCK=32)
    np.testing.assert_allclose(out, x, rtol=0)
    optional_ptr_kernel[(triton.cdiv(n, 32),)](x, bias, out, n, BLOCK=32)
    np.testing.assert_allclose(out, x.astype(np.float64) + bias, rtol=1e-6)


@pytest.mark.parametrize("T", [1, 7, 64, 100])
def test_associative_scan_linear_recurrence(rng, T):
    rows = 3
    x = rng.standard_normal((rows, T)).astype(np.float32)
    a = rng.uniform(-1.0, 1.0, (rows, T)).astype(np.float32)
    h = np.zeros((rows, T), dtype=np.float32)
    rnn_scan_kernel[(rows,)](x, a, h, T, BLOCK_T=triton.next_power_of_2(T))
    ref = np.zeros((rows, T))
    prev = np.zeros(rows)
    for t in range(T):
        prev = a[:, t].astype(np.float64) * prev + x[:, t]
        ref[:, t] = prev
    np.testing.assert_allclose(h, ref, rtol=1e-4, atol=1e-5)


def test_cumsum_int32(rng):
    n = 50
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    out = np.zeros(n, dtype=np.int32)
    cumsum_kernel[(1,)](x, out, n, BLOCK=64)
    np.testing.assert_array_equal(out, np.cumsum(x.astype(np.int64)))

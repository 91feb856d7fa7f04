"""Tensor descriptors, device-side (tl.make_tensor_descriptor, desc.load / desc.store,
tl.load_tensor_descriptor / tl.store_tensor_descriptor) and host-side (triton.tools.tensor_descriptor.
TensorDescriptor as a kernel argument), as in Triton's persistent-matmul and attention tutorials: blocks at
any offsets, elements outside the shape read as zero (or NaN) and left unwritten; against numpy references."""

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.tools.tensor_descriptor import TensorDescriptor


@triton.jit
def scale_kernel(a_ptr, c_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr, PAD: tl.constexpr):
    a_desc = tl.make_tensor_descriptor(a_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN], padding_option=PAD)
    c_desc = tl.make_tensor_descriptor(c_ptr, [M, N], [N, 1], [BM, BN])
    pm = tl.program_id(0) * BM
    for j in range(0, tl.cdiv(N, BN)):
        x = a_desc.load([pm, j * BN])
        c_desc.store([pm, j * BN], x * 2 + 1)


@triton.jit
def padding_kernel(a_ptr, out_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr, PAD: tl.constexpr):
    a_desc = tl.make_tensor_descriptor(a_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN], padding_option=PAD)
    x = tl.load_tensor_descriptor(a_desc, [M - BM // 2, N - BN // 2])  # straddles both edges
    offs = tl.arange(0, BM)[:, None] * BN + tl.arange(0, BN)[None, :]
    tl.store(out_ptr + offs, x)
    tl.store(out_ptr + BM * BN + tl.arange(0, 4),
             tl.full((4,), a_desc.block_shape[0] * 100 + a_desc.block_shape[1], tl.int32).to(a_desc.dtype))


@triton.jit
def matmul_desc_kernel(a_ptr, b_ptr, c_ptr, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    a_desc = tl.make_tensor_descriptor(a_ptr, shape=[M, K], strides=[K, 1], block_shape=[BM, BK])
    b_desc = tl.make_tensor_descriptor(b_ptr, shape=[K, N], strides=[N, 1], block_shape=[BK, BN])
    c_desc = tl.make_tensor_descriptor(c_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    pm = tl.program_id(0) * BM
    pn = tl.program_id(1) * BN
    acc = tl.zeros((BM, BN), tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        acc = tl.dot(a_desc.load([pm, k * BK]), b_desc.load([k * BK, pn]), acc)
    c_desc.store([pm, pn], acc.to(c_desc.dtype))


@triton.jit
def desc3d_kernel(x_ptr, out_ptr, B, M, N, BB: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr):
    d = tl.make_tensor_descriptor(x_ptr, shape=[B, M, N], strides=[M * N, N, 1], block_shape=[BB, BM, BN])
    o = tl.make_tensor_descriptor(out_ptr, shape=[B, M, N], strides=[M * N, N, 1], block_shape=[BB, BM, BN])
    o.store([1, tl.program_id(0) * BM, 0], -d.load([1, tl.program_id(0) * BM, 0]))


@pytest.mark.parametrize("shape", [(37, 45), (32, 64), (5, 3)])
def test_blocks_cover_a_ragged_matrix(rng, shape):
    m, n = shape
    a = rng.standard_normal(shape).astype(np.float32)
    c = np.full(shape, np.nan, np.float32)
    triton.set_allocator(lambda size, alignment, stream: None)  # Triton's TMA scratch hook: accepted
    scale_kernel[(triton.cdiv(m, 16),)](a, c, m, n, BM=16, BN=32, PAD="zero")
    np.testing.assert_array_equal(c, a * 2 + 1)


@pytest.mark.parametrize("pad", ["zero", "nan"])
def test_outside_the_shape_reads_the_padding(rng, pad):
    m, n, bm, bn = 20, 24, 8, 16
    a = rng.standard_normal((m, n)).astype(np.float32)
    out = np.full(bm * bn + 4, -7, np.float32)
    padding_kernel[(1,)](a, out, m, n, BM=bm, BN=bn, PAD=pad)
    block = out[: bm * bn].reshape(bm, bn)
    fill = 0.0 if pad == "zero" else np.nan
    ref = np.full((bm, bn), fill, np.float32)
    ref[: bm // 2, : bn // 2] = a[m - bm // 2:, n - bn // 2:]
    np.testing.assert_array_equal(block, ref)
    np.testing.assert_array_equal(out[bm * bn:], [816] * 4)


def test_matmul_through_descriptors(rng):
    m, n, k = 40, 48, 70
    a = rng.standard_normal((m, k)).astype(np.float16)
    b = rng.standard_normal((k, n)).astype(np.float16)
    c = np.full((m, n), np.nan, np.float16)
    matmul_desc_kernel[(triton.cdiv(m, 16), triton.cdiv(n, 16))](a, b, c, m, n, k, BM=16, BN=16, BK=32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(c.astype(np.float64), ref, rtol=2e-3, atol=2e-2)


def test_three_dim_blocks(rng):
    b, m, n = 3, 10, 8
    x = rng.standard_normal((b, m, n)).astype(np.float32)
    out = np.zeros((b, m, n), np.float32)
    desc3d_kernel[(triton.cdiv(m, 4),)](x, out, b, m, n, BB=1, BM=4, BN=8)
    ref = np.zeros_like(x)
    ref[1] = -x[1]
    np.testing.assert_array_equal(out, ref)


@triton.jit
def bad_desc_kernel(a_ptr, M, N, CASE: tl.constexpr):
    if CASE == 0:
        d = tl.make_tensor_descriptor(a_ptr, shape=[M, N], strides=[N, 2], block_shape=[16, 16])
    elif CASE == 1:
        d = tl.make_tensor_descriptor(a_ptr, shape=[M, N], strides=[N, 1], block_shape=[16, 16])
        x = d.load([0])
    elif CASE == 2:
        d = tl.make_tensor_descriptor(a_ptr, shape=[M], strides=[N, 1], block_shape=[16, 16])
    else:
        d = tl.make_tensor_descriptor(a_ptr, shape=[M, N], strides=[N, 1], block_shape=[16, 16])
        x = d.gather(tl.arange(0, 4), 0)


@pytest.mark.parametrize("case, message", [
    (0, r"the last dim must be contiguous \(stride 1\), got stride"),
    (1, r"offsets must be a list of 2 values"),
    (2, r"shape must be a list of 2 values"),
    (3, r"desc.gather needs a 2-D descriptor whose block has one row, got block_shape"),
])
def test_errors(case, message):
    with pytest.raises(Exception, match=r"test_tensor_descriptor.py:\d+:\d+: error: .*" + message):
        bad_desc_kernel[(1,)](np.zeros(256, np.float32), 16, 16, CASE=case)


@triton.jit
def host_desc_kernel(a_desc, c_desc, BM: tl.constexpr, BN: tl.constexpr):
    pm = tl.program_id(0) * BM
    for j in range(0, tl.cdiv(a_desc.shape[1], BN)):
        x = a_desc.load([pm, j * BN])
        c_desc.store([pm, j * BN], x * 2 + 1)


@triton.jit
def _maybe_make_tensor_desc(desc_or_ptr, shape, strides, block_shape):  # Triton's attention tutorial
    if isinstance(desc_or_ptr, tl.tensor_descriptor):
        return desc_or_ptr
    else:
        return tl.make_tensor_descriptor(desc_or_ptr, shape, strides, block_shape)


@triton.jit
def either_kernel(a, c, M, N, BM: tl.constexpr, BN: tl.constexpr):
    a_desc = _maybe_make_tensor_desc(a, [M, N], [N, 1], [BM, BN])
    c_desc = _maybe_make_tensor_desc(c, [M, N], [N, 1], [BM, BN])
    x = a_desc.load([tl.program_id(0) * BM, 0])
    c_desc.store([tl.program_id(0) * BM, 0], x - 1)


@pytest.mark.parametrize("view", [False, True])
def test_host_descriptors_of_arrays_and_views(rng, view):
    full = rng.standard_normal((37, 50)).astype(np.float32)
    a = full[:, 5:] if view else full[:, :45].copy()
    c = np.full(a.shape, np.nan, np.float32)
    host_desc_kernel[(triton.cdiv(37, 16),)](TensorDescriptor.from_tensor(a, [16, 32]),
                                              TensorDescriptor.from_tensor(c, [16, 32]), BM=16, BN=32)
    np.testing.assert_array_equal(c, a * 2 + 1)


def test_host_descriptor_of_a_torch_tensor(rng):
    torch = pytest.importorskip("torch")
    a = torch.randn(20, 64)
    c = torch.full((20, 64), float("nan"))
    host_desc_kernel[(2,)](TensorDescriptor(a, a.shape, a.stride(), [16, 64]),
                           TensorDescriptor.from_tensor(c, [16, 64]), BM=16, BN=64)
    torch.testing.assert_close(c, a * 2 + 1, rtol=0, atol=0)


@pytest.mark.parametrize("host", [False, True])
def test_a_helper_takes_a_descriptor_or_a_pointer(rng, host):
    m, n = 24, 16
    a = rng.standard_normal((m, n)).astype(np.float32)
    c = np.full((m, n), np.nan, np.float32)
    args = (TensorDescriptor.from_tensor(a, [8, 16]), TensorDescriptor.from_tensor(c, [8, 16])) if host else (a, c)
    either_kernel[(3,)](*args, m, n, BM=8, BN=16)
    np.testing.assert_array_equal(c, a - 1)


def test_host_descriptor_checks():
    a = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="last dimension must be contiguous"):
        TensorDescriptor(a, [8, 8], [1, 8], [8, 8])
    with pytest.raises(ValueError, match="powers of two"):
        TensorDescriptor.from_tensor(a, [8, 6])
    with pytest.raises(ValueError, match="padding must be 'zero' or 'nan'"):
        TensorDescriptor.from_tensor(a, [8, 8], padding="one")


@triton.jit
def rows_kernel(a_ptr, out_ptr, idx_ptr, M, N, R: tl.constexpr, BN: tl.constexpr, Y0):
    d = tl.make_tensor_descriptor(a_ptr, shape=[M, N], strides=[N, 1], block_shape=[1, BN])
    o = tl.make_tensor_descriptor(out_ptr, shape=[M, N], strides=[N, 1], block_shape=[1, BN])
    rows = tl.load(idx_ptr + tl.arange(0, R))
    x = d.gather(rows, Y0)
    o.scatter(x * 10, rows, Y0)
    tl.store(out_ptr + M * N + tl.arange(0, R)[:, None] * BN + tl.arange(0, BN)[None, :], x)


def test_gather_and_scatter_rows(rng):
    m, n, r, bn, y0 = 12, 20, 8, 8, 15  # columns 15..22 straddle the right edge
    a = rng.standard_normal((m, n)).astype(np.float32)
    idx = np.array([3, 0, 11, -1, 12, 7, 3, 5], np.int32)  # -1 and 12 are outside: zeros, not written
    out = np.full(m * n + r * bn, -5, np.float32)
    rows_kernel[(1,)](a, out, idx, m, n, R=r, BN=bn, Y0=y0)
    got = out[m * n:].reshape(r, bn)
    ref = np.zeros((r, bn), np.float32)
    for i, row in enumerate(idx):
        if 0 <= row < m:
            ref[i, : n - y0] = a[row, y0:]
    np.testing.assert_array_equal(got, ref)
    written = out[: m * n].reshape(m, n)
    expect = np.full((m, n), -5, np.float32)
    for row in set(int(v) for v in idx if 0 <= v < m):
        expect[row, y0:] = a[row, y0:] * 10
    np.testing.assert_array_equal(written, expect)


@triton.jit
def desc_atomic_kernel(c_ptr, v_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr):
    c = tl.make_tensor_descriptor(c_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    v = tl.load(v_ptr + tl.arange(0, BM)[:, None] * BN + tl.arange(0, BN)[None, :])
    c.atomic_add([M - BM // 2, 0], v)  # the lower half of the block is outside: dropped
    c.atomic_max([0, 0], v)


def test_descriptor_atomics(rng):
    m, n, bm, bn = 12, 8, 8, 8
    c0 = rng.standard_normal((m, n)).astype(np.float32)
    v = rng.standard_normal((bm, bn)).astype(np.float32)
    c = c0.copy()
    desc_atomic_kernel[(1,)](c, v, m, n, BM=bm, BN=bn)
    ref = c0.copy()
    ref[m - bm // 2:, :] += v[: bm // 2, :]
    ref[:bm, :] = np.maximum(ref[:bm, :], v)
    np.testing.assert_array_equal(c, ref)


@pytest.mark.gpu
def test_gpu_descriptors(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((37, 45)).astype(np.float32)
    c = torch.full((37, 45), float("nan"), device="cuda")
    scale_kernel[(3,)](torch.from_numpy(a).cuda(), c, 37, 45, BM=16, BN=32, PAD="zero")
    np.testing.assert_array_equal(c.cpu().numpy(), a * 2 + 1)
    m, n, k = 200, 136, 300
    a = torch.randn(m, k, device="cuda", dtype=torch.float16)
    b = torch.randn(k, n, device="cuda", dtype=torch.float16)
    c = torch.full((m, n), float("nan"), device="cuda", dtype=torch.float16)
    matmul_desc_kernel[(triton.cdiv(m, 64), triton.cdiv(n, 64))](a, b, c, m, n, k, BM=64, BN=64, BK=32)
    torch.testing.assert_close(c.float(), (a.double() @ b.double()).float(), rtol=2e-3, atol=3e-2)
    a = torch.randn(37, 45, device="cuda")
    c = torch.full((37, 45), float("nan"), device="cuda")
    host_desc_kernel[(3,)](TensorDescriptor.from_tensor(a, [16, 32]), TensorDescriptor.from_tensor(c, [16, 32]),
                           BM=16, BN=32)
    torch.testing.assert_close(c, a * 2 + 1, rtol=0, atol=0)
    a = torch.randn(12, 20, device="cuda")
    idx = torch.tensor([3, 0, 11, -1, 12, 7, 3, 5], dtype=torch.int32, device="cuda")
    out = torch.full((12 * 20 + 64,), -5.0, device="cuda")
    rows_kernel[(1,)](a, out, idx, 12, 20, R=8, BN=8, Y0=15)
    ref = torch.zeros(8, 8, device="cuda")
    for i, row in enumerate(idx.tolist()):
        if 0 <= row < 12:
            ref[i, :5] = a[row, 15:]
    torch.testing.assert_close(out[240:].view(8, 8), ref, rtol=0, atol=0)

"""Triton's standard-library functions built from other ops: tl.softmax (along any dim, fast or IEEE
division) and tl.swizzle2d (grouped tile order), checked against float64 / plain-Python references."""

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, DIM: tl.constexpr, IEEE: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.softmax(x, DIM, ieee_rounding=IEEE))


@triton.jit
def softmax_row_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(out_ptr + offs, tl.softmax(tl.load(x_ptr + offs)))


@triton.jit
def swizzle_kernel(out_ptr, size_i, size_j, SIZE_I: tl.constexpr, SIZE_J: tl.constexpr, SIZE_G: tl.constexpr):
    # Cells past the grid are clamped onto it: their group would be empty (a remainder by 0, as in Triton).
    i = tl.minimum(tl.arange(0, SIZE_I)[:, None] + tl.zeros((SIZE_I, SIZE_J), tl.int32), size_i - 1)
    j = tl.minimum(tl.arange(0, SIZE_J)[None, :] + tl.zeros((SIZE_I, SIZE_J), tl.int32), size_j - 1)
    ni, nj = tl.swizzle2d(i, j, size_i, size_j, SIZE_G)
    offs = tl.arange(0, SIZE_I)[:, None] * SIZE_J + tl.arange(0, SIZE_J)[None, :]
    tl.store(out_ptr + 2 * offs, ni)
    tl.store(out_ptr + 2 * offs + 1, nj)
    ci, cj = tl.swizzle2d(5, 3, SIZE_I, SIZE_J, SIZE_G)  # all compile-time: folded
    tl.store(out_ptr + 2 * SIZE_I * SIZE_J, ci)
    tl.store(out_ptr + 2 * SIZE_I * SIZE_J + 1, cj)


def softmax_ref(x, axis):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("ieee", [False, True])
def test_softmax_along_each_dim(rng, dim, ieee):
    m, n = 8, 16
    x = (rng.standard_normal((m, n)) * 4).astype(np.float32)
    out = np.full((m, n), np.nan, np.float32)
    softmax_kernel[(1,)](x, out, M=m, N=n, DIM=dim, IEEE=ieee)
    np.testing.assert_allclose(out, softmax_ref(x, dim), rtol=1e-5, atol=1e-7)


def test_softmax_of_a_row_defaults_to_dim_0(rng):
    x = (rng.standard_normal(64) * 10).astype(np.float32)
    out = np.full(64, np.nan, np.float32)
    softmax_row_kernel[(1,)](x, out, N=64)
    np.testing.assert_allclose(out, softmax_ref(x, 0), rtol=1e-5, atol=1e-7)
    assert abs(out.sum() - 1) < 1e-5


def swizzle_ref(i, j, size_i, size_j, size_g):
    ij = i * size_j + j
    group = ij // (size_g * size_j)
    off_i = group * size_g
    g = min(size_i - off_i, size_g)
    ij %= size_g * size_j
    return off_i + ij % g, ij // g


@pytest.mark.parametrize("size_i, size_j, size_g", [(8, 4, 2), (7, 4, 3), (5, 8, 4)])
def test_swizzle2d(size_i, size_j, size_g):
    I, J = 8, 8
    out = np.full(2 * I * J + 2, -1, np.int32)
    swizzle_kernel[(1,)](out, size_i, size_j, SIZE_I=I, SIZE_J=J, SIZE_G=size_g)
    got = out[:-2].reshape(I, J, 2)
    for i in range(size_i):
        for j in range(size_j):
            assert tuple(got[i, j]) == swizzle_ref(i, j, size_i, size_j, size_g), (i, j)
    cells = {tuple(got[i, j]) for i in range(size_i) for j in range(size_j)}
    assert cells == {(i, j) for i in range(size_i) for j in range(size_j)}  # a permutation of the grid
    assert tuple(out[-2:]) == swizzle_ref(5, 3, I, J, size_g)


@triton.jit
def flip_kernel(x_ptr, out_ptr, A: tl.constexpr, B: tl.constexpr, C: tl.constexpr, DIM: tl.constexpr):
    offs = (tl.arange(0, A)[:, None, None] * B + tl.arange(0, B)[None, :, None]) * C + tl.arange(0, C)[None, None, :]
    tl.store(out_ptr + offs, tl.flip(tl.load(x_ptr + offs), DIM))


@triton.jit
def flip_row_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs).flip())


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_flip_each_dim(rng, dim):
    shape = (2, 8, 4)
    x = rng.standard_normal(shape).astype(np.float32)
    out = np.full(shape, np.nan, np.float32)
    flip_kernel[(1,)](x, out, *shape, DIM=dim)
    np.testing.assert_array_equal(out, np.flip(x, dim))


def test_flip_defaults_to_the_last_dim(rng):
    x = rng.integers(-100, 100, 32).astype(np.int32)
    out = np.zeros(32, np.int32)
    flip_row_kernel[(1,)](x, out, N=32)
    np.testing.assert_array_equal(out, x[::-1])


@triton.jit
def sort_kernel(x_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, DESCENDING: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    tl.store(out_ptr + offs, tl.sort(tl.load(x_ptr + offs), descending=DESCENDING))


@triton.jit
def sort_row_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(out_ptr + offs, tl.sort(tl.load(x_ptr + offs), 0))


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float16])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_rows(rng, dtype, descending):
    m, n = 4, 32
    x = (rng.standard_normal((m, n)) * 50).astype(dtype)
    x[0, :8] = x[0, 8:16]  # repeated keys
    out = np.zeros_like(x)
    sort_kernel[(1,)](x, out, M=m, N=n, DESCENDING=descending)
    want = np.sort(x, axis=1)
    np.testing.assert_array_equal(out, want[:, ::-1] if descending else want)


def test_sort_a_row_and_sizes_one_and_two(rng):
    for n in (1, 2, 64):
        x = rng.standard_normal(n).astype(np.float32)
        out = np.full(n, np.nan, np.float32)
        sort_row_kernel[(1,)](x, out, N=n)
        np.testing.assert_array_equal(out, np.sort(x))


@triton.jit
def nan_kernel(x_ptr, y_ptr, o_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(o_ptr + offs, tl.maximum(x, y, propagate_nan=tl.PropagateNan.ALL))
    tl.store(o_ptr + N + offs, tl.minimum(x, y, propagate_nan=tl.PropagateNan.ALL))
    tl.store(o_ptr + 2 * N + offs, tl.maximum(x, y, propagate_nan=tl.PropagateNan.NONE))
    tl.store(o_ptr + 3 * N + offs, tl.clamp(x, -0.5, 0.5, propagate_nan=tl.PropagateNan.ALL))
    tl.store(o_ptr + 4 * N + offs, tl.clamp(x, -0.5, 0.5))


@triton.jit
def pointer_cast_kernel(x_ptr, o_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    bits = x_ptr.to(tl.pointer_type(tl.int32))  # reinterpret the float32 buffer
    tl.store(o_ptr + offs, tl.load(bits + offs))


def test_propagate_nan():
    x = np.array([1, np.nan, 3, -4, np.nan, 0.25, 7, -1], np.float32)
    y = np.array([2, 2, np.nan, -5, np.nan, 0.5, 7, -2], np.float32)
    out = np.zeros(5 * 8, np.float32)
    nan_kernel[(1,)](x, y, out, N=8)
    got = out.reshape(5, 8)
    np.testing.assert_array_equal(got[0], np.maximum(x, y))  # numpy's maximum propagates NaN
    np.testing.assert_array_equal(got[1], np.minimum(x, y))
    np.testing.assert_array_equal(got[2], np.fmax(x, y))  # NONE: a NaN operand loses
    np.testing.assert_array_equal(got[3], np.clip(x, -0.5, 0.5))
    np.testing.assert_array_equal(got[4], np.nan_to_num(np.clip(x, -0.5, 0.5), nan=-0.5))


def test_pointer_type_cast(rng):
    x = rng.standard_normal(16).astype(np.float32)
    out = np.zeros(16, np.int32)
    pointer_cast_kernel[(1,)](x, out, N=16)
    np.testing.assert_array_equal(out, x.view(np.int32))


@triton.jit
def histogram_kernel(x_ptr, o_ptr, n, N: tl.constexpr, BINS: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0)
    tl.store(o_ptr + tl.arange(0, BINS), tl.histogram(x, BINS, mask=offs < n))
    tl.store(o_ptr + BINS + tl.arange(0, BINS), tl.histogram(x, BINS))


def test_histogram(rng):
    n, N, bins = 1000, 1024, 32
    x = rng.integers(-3, bins + 3, size=N).astype(np.int32)  # some values outside the bins: counted nowhere
    out = np.full(2 * bins, -1, np.int32)
    histogram_kernel[(1,)](x, out, n, N=N, BINS=bins)
    np.testing.assert_array_equal(out[:bins], np.bincount(x[:n][(x[:n] >= 0) & (x[:n] < bins)], minlength=bins))
    padded = np.where(np.arange(N) < n, x, 0)  # unmasked: the `other=0` lanes count in bin 0
    np.testing.assert_array_equal(out[bins:], np.bincount(padded[(padded >= 0) & (padded < bins)], minlength=bins))


@pytest.mark.gpu
def test_gpu_flip_softmax_swizzle(rng):
    torch = pytest.importorskip("torch")
    shape = (2, 8, 4)
    x = rng.standard_normal(shape).astype(np.float32)
    for dim in (0, 1, 2):
        out = torch.full(shape, float("nan"), device="cuda")
        flip_kernel[(1,)](torch.from_numpy(x).cuda(), out, *shape, DIM=dim)
        np.testing.assert_array_equal(out.cpu().numpy(), np.flip(x, dim))
    x = (rng.standard_normal((8, 16)) * 4).astype(np.float32)
    for dim in (0, 1):
        out = torch.full((8, 16), float("nan"), device="cuda")
        softmax_kernel[(1,)](torch.from_numpy(x).cuda(), out, M=8, N=16, DIM=dim, IEEE=False)
        np.testing.assert_allclose(out.cpu().numpy(), softmax_ref(x, dim), rtol=1e-5, atol=1e-7)
    out = torch.full((2 * 64 + 2,), -1, dtype=torch.int32, device="cuda")
    swizzle_kernel[(1,)](out, 7, 4, SIZE_I=8, SIZE_J=8, SIZE_G=3)
    got = out.cpu().numpy()[:-2].reshape(8, 8, 2)
    x = rng.integers(-3, 35, size=1024).astype(np.int32)
    hist = torch.full((64,), -1, dtype=torch.int32, device="cuda")
    histogram_kernel[(1,)](torch.from_numpy(x).cuda(), hist, 1000, N=1024, BINS=32)
    np.testing.assert_array_equal(hist.cpu().numpy()[:32], np.bincount(x[:1000][(x[:1000] >= 0) & (x[:1000] < 32)],
                                                                       minlength=32))
    assert all(tuple(got[i, j]) == swizzle_ref(i, j, 7, 4, 3) for i in range(7) for j in range(4))
    x = (rng.standard_normal((4, 32)) * 50).astype(np.float32)
    for descending in (False, True):
        out = torch.zeros((4, 32), device="cuda")
        sort_kernel[(1,)](torch.from_numpy(x).cuda(), out, M=4, N=32, DESCENDING=descending)
        want = np.sort(x, axis=1)
        np.testing.assert_array_equal(out.cpu().numpy(), want[:, ::-1] if descending else want)


@triton.jit
def gather_kernel(x_ptr, i_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, IM: tl.constexpr, IN: tl.constexpr,
                  AXIS: tl.constexpr):
    src = tl.load(x_ptr + tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :])
    offs = tl.arange(0, IM)[:, None] * IN + tl.arange(0, IN)[None, :]
    tl.store(out_ptr + offs, tl.gather(src, tl.load(i_ptr + offs), AXIS))


@triton.jit
def topk_kernel(x_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr, SMALLEST: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :])
    if SMALLEST:
        t = tl.topk(x, K, descending=False)
    else:
        t = x.topk(K)
    tl.store(out_ptr + tl.arange(0, M)[:, None] * K + tl.arange(0, K)[None, :], t)


@pytest.mark.parametrize("axis, ishape", [(0, (4, 16)), (0, (16, 16)), (1, (8, 4)), (1, (8, 32)), (-1, (8, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16])
def test_gather_matches_take_along_axis(rng, axis, ishape, dtype):
    m, n = 8, 16
    x = (rng.standard_normal((m, n)) * 100).astype(dtype)
    extent = x.shape[axis]
    index = rng.integers(0, extent, ishape).astype(np.int32)
    out = np.full(ishape, 7, dtype)
    gather_kernel[(1,)](x, index, out, M=m, N=n, IM=ishape[0], IN=ishape[1], AXIS=axis)
    np.testing.assert_array_equal(out, np.take_along_axis(x, index, axis))


def test_gather_index_outside_the_source_is_an_error(rng):
    x = rng.standard_normal((8, 16)).astype(np.float32)
    index = rng.integers(0, 16, (8, 4)).astype(np.int32)
    index[3, 2] = -1
    with pytest.raises(Exception, match=r"test_standard.py:\d+:\d+: error: tl.gather: index -1 is outside \[0, 16\) "
                                        r"along axis 1"):
        gather_kernel[(1,)](x, index, np.zeros((8, 4), np.float32), M=8, N=16, IM=8, IN=4, AXIS=1)


@pytest.mark.parametrize("bad, message", [
    (dict(IM=4, IN=8, AXIS=0), r"tl.gather\(\): index dim 1 \(tensor<4x8xi32>\) must match the source's"),
    (dict(IM=8, IN=4, AXIS=2), r"axis 2 is out of range"),
])
def test_gather_shape_errors(bad, message):
    with pytest.raises(Exception, match=message):
        gather_kernel[(1,)](np.zeros((8, 16), np.float32), np.zeros(64, np.int32), np.zeros(64, np.float32),
                            M=8, N=16, **bad)


@pytest.mark.parametrize("k", [1, 4, 32])
@pytest.mark.parametrize("smallest", [False, True])
def test_topk_is_the_sorted_head(rng, k, smallest):
    m, n = 4, 32
    x = (rng.standard_normal((m, n)) * 10).astype(np.float32)
    out = np.full((m, k), np.nan, np.float32)
    topk_kernel[(1,)](x, out, M=m, N=n, K=k, SMALLEST=smallest)
    ref = np.sort(x, axis=1)[:, :k] if smallest else -np.sort(-x, axis=1)[:, :k]
    np.testing.assert_array_equal(out, ref)


def test_topk_k_must_be_a_power_of_two():
    with pytest.raises(Exception, match=r"tl.topk\(\): k must be a power of two from 1 to 32, got 3"):
        topk_kernel[(1,)](np.zeros((4, 32), np.float32), np.zeros(12, np.float32), M=4, N=32, K=3, SMALLEST=False)


@pytest.mark.gpu
def test_gpu_gather_topk_cat(rng):
    torch = pytest.importorskip("torch")
    for axis, ishape in [(0, (4, 16)), (1, (8, 32)), (1, (8, 4))]:
        x = rng.standard_normal((8, 16)).astype(np.float32)
        index = rng.integers(0, x.shape[axis], ishape).astype(np.int32)
        out = torch.full(ishape, float("nan"), device="cuda")
        gather_kernel[(1,)](torch.from_numpy(x).cuda(), torch.from_numpy(index).cuda(), out, M=8, N=16,
                            IM=ishape[0], IN=ishape[1], AXIS=axis)
        np.testing.assert_array_equal(out.cpu().numpy(), np.take_along_axis(x, index, axis))
    x = (rng.standard_normal((4, 32)) * 10).astype(np.float32)
    out = torch.full((4, 4), float("nan"), device="cuda")
    topk_kernel[(1,)](torch.from_numpy(x).cuda(), out, M=4, N=32, K=4, SMALLEST=False)
    np.testing.assert_array_equal(out.cpu().numpy(), -np.sort(-x, axis=1)[:, :4])
    x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 4)).astype(np.float32)
    out = torch.full((16, 4), float("nan"), device="cuda")
    cat_kernel[(1,)](torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda(), out, M=8, N=4, TWO_D=True)
    np.testing.assert_array_equal(out.cpu().numpy(), np.concatenate([x, y]))
    a = torch.randn(4, 64, 32, device="cuda", dtype=torch.float16)
    b = torch.randn(4, 32, 64, device="cuda", dtype=torch.float16)
    c0 = torch.randn(4, 64, 64, device="cuda")
    c = c0.clone()
    bmm_kernel[(1,)](a, b, c, B=4, M=64, N=64, K=32, ACC=True)
    torch.testing.assert_close(c, (a.double() @ b.double() + c0.double()).float(), rtol=1e-3, atol=1e-2)


@triton.jit
def isinstance_kernel(x_ptr, out_ptr, n, F: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, 4))
    r = tl.zeros((4,), tl.int32)
    if isinstance(x, tl.tensor):
        r += 1
    if isinstance(n, tl.tensor):  # a runtime scalar argument is a tensor, as in Triton
        r += 2
    if isinstance(F, tl.constexpr):
        r += 4
    if isinstance(F, (int, float)):
        r += 8
    if isinstance(F, float):
        r += 16
    if isinstance((1, 2), tuple) and not isinstance((1, 2), list):
        r += 32
    tl.store(out_ptr + tl.arange(0, 4), r)


@pytest.mark.parametrize("f, expected", [(3, 47), (2.5, 63)])
def test_isinstance_is_compile_time(f, expected):
    out = np.zeros(4, np.int32)
    isinstance_kernel[(1,)](np.ones(4, np.float32), out, 5, F=f)
    np.testing.assert_array_equal(out, [expected] * 4)


@triton.jit
def cat_kernel(x_ptr, y_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, TWO_D: tl.constexpr):
    if TWO_D:
        offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
        r = tl.cat(tl.load(x_ptr + offs), tl.load(y_ptr + offs), can_reorder=True)
        tl.store(out_ptr + tl.arange(0, 2 * M)[:, None] * N + tl.arange(0, N)[None, :], r)
    else:
        offs = tl.arange(0, M)
        tl.store(out_ptr + tl.arange(0, 2 * M), tl.cat(tl.load(x_ptr + offs), tl.load(y_ptr + offs), True))


@pytest.mark.parametrize("two_d", [False, True])
def test_cat_concatenates_along_dim_0(rng, two_d):
    m, n = 8, 4
    shape = (m, n) if two_d else (m,)
    x, y = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    out = np.full((2 * m,) + shape[1:], np.nan, np.float32)
    cat_kernel[(1,)](x, y, out, M=m, N=n, TWO_D=two_d)
    np.testing.assert_array_equal(out, np.concatenate([x, y]))


@triton.jit
def cat_no_reorder_kernel(x_ptr):
    offs = tl.arange(0, 4)
    tl.store(x_ptr + tl.arange(0, 8), tl.cat(tl.load(x_ptr + offs), tl.load(x_ptr + offs)))


def test_cat_needs_can_reorder():
    with pytest.raises(Exception, match=r"test_standard.py:\d+:\d+: error: tl.cat: the current implementation"):
        cat_no_reorder_kernel[(1,)](np.zeros(8, np.float32))


@triton.jit
def bmm_kernel(a_ptr, b_ptr, c_ptr, B: tl.constexpr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr,
               ACC: tl.constexpr):
    bb = tl.arange(0, B)[:, None, None]
    a = tl.load(a_ptr + bb * M * K + tl.arange(0, M)[None, :, None] * K + tl.arange(0, K)[None, None, :])
    b = tl.load(b_ptr + bb * K * N + tl.arange(0, K)[None, :, None] * N + tl.arange(0, N)[None, None, :])
    c_offs = bb * M * N + tl.arange(0, M)[None, :, None] * N + tl.arange(0, N)[None, None, :]
    if ACC:
        c = tl.dot(a, b, tl.load(c_ptr + c_offs))
    else:
        c = tl.dot(a, b)
    tl.store(c_ptr + c_offs, c)


@pytest.mark.parametrize("batch", [1, 2, 4])
@pytest.mark.parametrize("acc", [False, True])
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_batched_dot(rng, batch, acc, dtype):
    m, n, k = 16, 32, 16
    a = rng.standard_normal((batch, m, k)).astype(dtype)
    b = rng.standard_normal((batch, k, n)).astype(dtype)
    c0 = rng.standard_normal((batch, m, n)).astype(np.float32)
    c = c0.copy() if acc else np.full((batch, m, n), np.nan, np.float32)
    bmm_kernel[(1,)](a, b, c, B=batch, M=m, N=n, K=k, ACC=acc)
    ref = np.einsum("bmk,bkn->bmn", a.astype(np.float64), b.astype(np.float64)) + (c0 if acc else 0)
    np.testing.assert_allclose(c, ref, rtol=2e-3 if dtype == np.float32 else 1e-3, atol=1e-2)


@triton.jit
def asm_kernel(x_ptr, y_ptr, o_ptr, q_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    t = tl.inline_asm_elementwise("tanh.approx.f32 $0, $1;", "=f,f", [x], dtype=tl.float32, is_pure=True, pack=1)
    a, b = tl.inline_asm_elementwise("add.s32 $0, $2, 7; mov.b32 $1, $3;", "=r,=r,r,r", [y, x],
                                     dtype=(tl.int32, tl.float32), is_pure=True, pack=1)
    tl.store(o_ptr + offs, t + b)
    tl.store(q_ptr + offs, a)


def test_inline_asm_is_gpu_only():
    with pytest.raises(Exception, match=r"test_standard.py:\d+:\d+: error: tl.inline_asm_elementwise: inline PTX "
                                        r"runs only on the GPU"):
        asm_kernel[(1,)](np.ones(64, np.float32), np.ones(64, np.int32), np.zeros(64, np.float32),
                         np.zeros(64, np.int32), N=64)


@pytest.mark.gpu
def test_gpu_inline_asm(rng):
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(rng.standard_normal(256).astype(np.float32)).cuda()
    y = torch.from_numpy(rng.integers(-1000, 1000, 256).astype(np.int32)).cuda()
    o = torch.full((256,), float("nan"), device="cuda")
    q = torch.zeros(256, dtype=torch.int32, device="cuda")
    asm_kernel[(1,)](x, y, o, q, N=256)
    torch.testing.assert_close(o, torch.tanh(x) + x, rtol=1e-3, atol=1e-3)  # tanh.approx: about 2^-11
    torch.testing.assert_close(q, y + 7, rtol=0, atol=0)


@triton.jit
def warps_kernel(out_ptr):
    tl.store(out_ptr + tl.arange(0, 2), tl.full((2,), tl.extra.cuda.num_threads(), tl.int32)
             + tl.arange(0, 2) * (tl.extra.cuda.num_warps() - tl.extra.cuda.num_threads()))


@pytest.mark.parametrize("warps", [1, 2, 8])
def test_num_warps_and_threads_are_the_launch_options(warps):
    out = np.zeros(2, np.int32)
    warps_kernel[(1,)](out, num_warps=warps)
    np.testing.assert_array_equal(out, [32 * warps, warps])


@triton.jit
def clock_kernel(out_ptr, x_ptr, N: tl.constexpr):
    t0 = tl.extra.cuda.globaltimer()
    x = tl.load(x_ptr + tl.arange(0, N))
    tl.store(x_ptr + tl.arange(0, N), tl.sqrt(x) + 1)
    t1 = tl.extra.cuda.globaltimer()
    tl.store(out_ptr + tl.program_id(0) * 3, t0)
    tl.store(out_ptr + tl.program_id(0) * 3 + 1, t1)
    tl.store(out_ptr + tl.program_id(0) * 3 + 2, tl.extra.cuda.smid().to(tl.int64))


def test_globaltimer_and_smid_on_the_cpu():
    import time
    out = np.full(12, -1, np.int64)
    before = time.time_ns()
    clock_kernel[(4,)](out, np.ones(1024, np.float32), N=1024)
    after = time.time_ns()
    t = out.reshape(4, 3)
    assert (before <= t[:, 0]).all() and (t[:, 0] <= t[:, 1]).all() and (t[:, 1] <= after).all()
    np.testing.assert_array_equal(t[:, 2], 0)  # the CPU's "SM"


@pytest.mark.gpu
def test_gpu_globaltimer_and_smid():
    torch = pytest.importorskip("torch")
    out = torch.full((3 * 264,), -1, dtype=torch.int64, device="cuda")
    clock_kernel[(264,)](out, torch.ones(1024, device="cuda"), N=1024)
    t = out.reshape(264, 3).cpu().numpy()
    assert (t[:, 0] > 0).all() and (t[:, 0] <= t[:, 1]).all()
    assert t[:, 1].max() - t[:, 0].min() < 10**9  # one launch: well under a second
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    assert ((0 <= t[:, 2]) & (t[:, 2] < sms)).all() and len(set(t[:, 2])) > 1


@triton.jit
def _argmin_pick(a, ia, b, ib):
    # Python control flow in a combine_fn: the smaller value, the smaller index on ties.
    if a < b:
        r, ir = a, ia
    elif b < a:
        r, ir = b, ib
    else:
        r, ir = a, tl.minimum(ia, ib)
    return r, ir


@triton.jit
def argmin_rows_kernel(x_ptr, v_ptr, i_ptr, M: tl.constexpr, N: tl.constexpr):
    cols = tl.arange(0, N)[None, :] + tl.zeros((M, N), tl.int32)
    offs = tl.arange(0, M)[:, None] * N + cols
    x = tl.load(x_ptr + offs)
    v, i = tl.reduce((x, cols), 1, _argmin_pick)
    tl.store(v_ptr + tl.arange(0, M), v)
    tl.store(i_ptr + tl.arange(0, M), i)
    c, ci = tl.associative_scan((x, cols), 1, _argmin_pick)
    tl.store(v_ptr + M + offs, c)
    tl.store(i_ptr + M + offs, ci)


def _argmin_rows_check(x, v, i):
    m, n = x.shape
    np.testing.assert_array_equal(v[:m], x.min(1))
    np.testing.assert_array_equal(i[:m], x.argmin(1))  # the first of ties
    np.testing.assert_array_equal(v[m:].reshape(m, n), np.minimum.accumulate(x, 1))
    np.testing.assert_array_equal(i[m:].reshape(m, n), [[int(np.argmin(r[:k + 1])) for k in range(n)] for r in x])


def test_combine_fn_with_an_if(rng):
    x = np.floor(rng.uniform(0, 4, (4, 32))).astype(np.float32)  # ties
    v, i = np.full(4 + 128, np.nan, np.float32), np.full(4 + 128, -1, np.int32)
    argmin_rows_kernel[(1,)](x, v, i, M=4, N=32)
    _argmin_rows_check(x, v, i)


@pytest.mark.gpu
def test_gpu_combine_fn_with_an_if(rng):
    torch = pytest.importorskip("torch")
    x = np.floor(rng.uniform(0, 4, (4, 32))).astype(np.float32)
    v = torch.full((4 + 128,), float("nan"), device="cuda")
    i = torch.full((4 + 128,), -1, dtype=torch.int32, device="cuda")
    argmin_rows_kernel[(1,)](torch.from_numpy(x).cuda(), v, i, M=4, N=32)
    _argmin_rows_check(x, v.cpu().numpy(), i.cpu().numpy())

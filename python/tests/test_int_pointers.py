"""Integers as pointers (`x.to(tl.pointer_type(...))` of int64 addresses, `ptr.to(tl.int64)`), as Triton's
grouped GEMM uses them: a table of data_ptr()s, one per group, loaded and cast in the kernel. The interpreter
maps an address inside a buffer argument back to that buffer (bounds-checked as usual) and checks any other
address against the process's memory mappings, so a bad address is a located error, not a crash."""

import ctypes

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def grouped_matmul(a_ptrs, b_ptrs, c_ptrs, sizes, lds, G: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr,
                   BK: tl.constexpr):
    # Persistent over the tiles of every group: program p takes tiles p, p + num_programs, ...
    tile = tl.program_id(0)
    step = tl.num_programs(0)
    first = 0  # the first tile of group g
    for g in range(G):
        m = tl.load(sizes + 3 * g)
        n = tl.load(sizes + 3 * g + 1)
        k = tl.load(sizes + 3 * g + 2)
        tiles_n = tl.cdiv(n, BN)
        count = tl.cdiv(m, BM) * tiles_n
        a = tl.load(a_ptrs + g).to(tl.pointer_type(tl.float32))
        b = tl.load(b_ptrs + g).to(tl.pointer_type(tl.float32))
        c = tl.load(c_ptrs + g).to(tl.pointer_type(tl.float32))
        lda = tl.load(lds + 3 * g)
        ldb = tl.load(lds + 3 * g + 1)
        ldc = tl.load(lds + 3 * g + 2)
        while tile < first + count:
            t = tile - first
            rm = (t // tiles_n) * BM + tl.arange(0, BM)
            rn = (t % tiles_n) * BN + tl.arange(0, BN)
            acc = tl.zeros((BM, BN), tl.float32)
            for k0 in range(0, k, BK):
                rk = k0 + tl.arange(0, BK)
                x = tl.load(a + rm[:, None] * lda + rk[None, :], mask=(rm[:, None] < m) & (rk[None, :] < k), other=0.0)
                y = tl.load(b + rk[:, None] * ldb + rn[None, :], mask=(rk[:, None] < k) & (rn[None, :] < n), other=0.0)
                acc += tl.dot(x, y, input_precision="ieee")
            tl.store(c + rm[:, None] * ldc + rn[None, :], acc, mask=(rm[:, None] < m) & (rn[None, :] < n))
            tile += step
        first += count


def run_grouped(rng, shapes, to_table, alloc):
    As = [rng.standard_normal((m, k)).astype(np.float32) for m, n, k in shapes]
    Bs = [rng.standard_normal((k, n)).astype(np.float32) for m, n, k in shapes]
    a, b = [alloc(x) for x in As], [alloc(x) for x in Bs]
    c = [alloc(np.full((m, n), np.nan, np.float32)) for m, n, k in shapes]
    sizes = np.array([v for s in shapes for v in s], np.int32)
    lds = np.array([v for m, n, k in shapes for v in (k, n, n)], np.int32)
    tables = [to_table(x) for x in (a, b, c)]
    grouped_matmul[(3,)](*tables, alloc(sizes), alloc(lds), G=len(shapes), BM=16, BN=16, BK=16)
    return As, Bs, c


def test_grouped_matmul_through_a_table_of_addresses(rng):
    shapes = [(20, 33, 17), (16, 16, 16), (5, 40, 48), (37, 9, 3)]
    As, Bs, c = run_grouped(rng, shapes, lambda xs: np.array([x.ctypes.data for x in xs], np.int64), lambda x: x)
    for x, y, z in zip(As, Bs, c):
        np.testing.assert_allclose(z, x.astype(np.float64) @ y.astype(np.float64), rtol=1e-5, atol=1e-5)


@triton.jit
def addresses(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    p = x_ptr + offs
    tl.store(out_ptr + offs, p.to(tl.int64))
    # ... and back: an address inside the argument is a pointer into it.
    q = tl.load(out_ptr + offs).to(tl.pointer_type(tl.float32))
    tl.store(q, tl.load(q) * 2)


def test_pointer_to_int_is_the_address_and_back(rng):
    x = rng.standard_normal(16).astype(np.float32)
    want = x * 2
    out = np.zeros(16, np.int64)
    addresses[(1,)](x, out, N=16)
    np.testing.assert_array_equal(out, x.ctypes.data + 4 * np.arange(16))
    np.testing.assert_array_equal(x, want)


@triton.jit
def load_at(addr_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    p = tl.load(addr_ptr).to(tl.pointer_type(tl.float32))
    tl.store(out_ptr + offs, tl.load(p + offs))


@triton.jit
def store_at(addr_ptr, N: tl.constexpr):
    p = tl.load(addr_ptr).to(tl.pointer_type(tl.int8))
    tl.store(p + tl.arange(0, N), tl.zeros((N,), tl.int8))


def test_bad_addresses_are_located_errors():
    out = np.zeros(8, np.float32)
    with pytest.raises(Exception, match=r"test_int_pointers.py:\d+:\d+: .*load at address 0x10 \(an integer cast "
                                        r"to a pointer\), which is not readable memory"):
        load_at[(1,)](np.array([16], np.int64), out, N=8)
    # An address inside a buffer argument is bounds-checked against that argument.
    with pytest.raises(Exception, match=r"out-of-bounds load from 'out_ptr': element offset 8"):
        load_at[(1,)](np.array([out.ctypes.data + 32], np.int64), out, N=8)
    # Code is readable but not writable.
    code = ctypes.cast(ctypes.pythonapi.Py_IsInitialized, ctypes.c_void_p).value
    out = np.full(8, np.nan, np.float32)
    load_at[(1,)](np.array([code], np.int64), out, N=8)
    assert not np.isnan(out).all()
    with pytest.raises(Exception, match=r"store at address 0x[0-9a-f]+ \(an integer cast to a pointer\), which is "
                                        r"not writable memory"):
        store_at[(1,)](np.array([code], np.int64), N=8)


@triton.jit
def float_to_pointer(x_ptr):
    p = tl.load(x_ptr).to(tl.pointer_type(tl.float32))
    tl.store(p, 1.0)


def test_only_64_bit_integers_are_addresses():
    with pytest.raises(Exception, match=r"test_int_pointers.py:\d+:\d+: error: only pointers and 64-bit integers "
                                        r"\(addresses\) can be cast to a pointer type, got f32"):
        float_to_pointer[(1,)](np.zeros(1, np.float32))


def test_torch_tables_on_the_cpu(rng):
    torch = pytest.importorskip("torch")
    shapes = [(9, 12, 30), (32, 17, 8)]
    As, Bs, c = run_grouped(rng, shapes, lambda xs: torch.tensor([x.data_ptr() for x in xs], dtype=torch.int64),
                            lambda x: torch.from_numpy(x.copy()))
    for x, y, z in zip(As, Bs, c):
        np.testing.assert_allclose(z.numpy(), x.astype(np.float64) @ y.astype(np.float64), rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
def test_gpu_grouped_matmul(rng):
    torch = pytest.importorskip("torch")
    shapes = [(20, 33, 17), (64, 64, 64), (5, 40, 48)]
    As, Bs, c = run_grouped(rng, shapes,
                            lambda xs: torch.tensor([x.data_ptr() for x in xs], dtype=torch.int64, device="cuda"),
                            lambda x: torch.from_numpy(np.ascontiguousarray(x)).cuda())
    for x, y, z in zip(As, Bs, c):
        np.testing.assert_allclose(z.cpu().numpy(), x.astype(np.float64) @ y.astype(np.float64), rtol=1e-4,
                                   atol=1e-4)

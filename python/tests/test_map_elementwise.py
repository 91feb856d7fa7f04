"""tl.map_elementwise: a @jit function with Python control flow on its scalar arguments (if / elif / else,
early return, while, conditional expressions, nested calls, loops carrying per-element values), applied to
each element of broadcast tensors, with pack > 1; checked against plain-Python / float64 references on random
inputs, with the outputs poisoned first; bad uses give located errors."""

import math

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def selu_scalar(x, alpha):
    if x > 0:
        return x
    else:
        return alpha * (tl.exp(x) - 1)


@triton.jit
def selu_kernel(x_ptr, out_ptr, n, alpha, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    tl.store(out_ptr + offs, tl.map_elementwise(selu_scalar, x, alpha), mask=mask)


def test_selu_from_the_triton_docs(rng):
    n = 1000
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    out = np.full(n, np.nan, np.float32)
    selu_kernel[(triton.cdiv(n, 256),)](x, out, n, 1.6732, BLOCK=256)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(out, np.where(x64 > 0, x64, 1.6732 * np.expm1(x64)), rtol=2e-6, atol=1e-6)


@triton.jit
def collatz_steps(n):
    # A data-dependent loop with a branch inside: each element runs its own number of iterations.
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


@triton.jit
def classify(x, lo, hi):
    # elif chains, an early return in a nested if, a conditional expression, tuples of results.
    if x < lo:
        return -1, lo - x
    elif x > hi:
        if x > 2 * hi:
            return 2, x - 2 * hi
        return 1, x - hi
    d = x - lo if x - lo < hi - x else hi - x
    return 0, d


@triton.jit
def safe_div(n, d):
    # The division runs only where d != 0: elements with d == 0 must not raise a division by zero.
    if d != 0:
        q = n // d
    else:
        q = -7
    return q


@triton.jit
def sum_below(x, k):
    # A runtime `for` whose carried value becomes per element inside it.
    acc = 0.0
    for i in range(k):
        if x > i:
            acc += 1.0
    return acc


@triton.jit
def many_kernel(i_ptr, f_ptr, d_ptr, steps_ptr, cls_ptr, dist_ptr, q_ptr, below_ptr, k, N: tl.constexpr):
    offs = tl.arange(0, N)
    i = tl.load(i_ptr + offs)
    f = tl.load(f_ptr + offs)
    d = tl.load(d_ptr + offs)
    tl.store(steps_ptr + offs, tl.map_elementwise(collatz_steps, i))
    c, dist = tl.map_elementwise(classify, f, -1.0, 1.5)
    tl.store(cls_ptr + offs, c)
    tl.store(dist_ptr + offs, dist)
    tl.store(q_ptr + offs, tl.map_elementwise(safe_div, i, d))
    tl.store(below_ptr + offs, tl.map_elementwise(sum_below, f * 3, k))


def collatz_ref(n):
    s = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        s += 1
    return s


def classify_ref(x, lo, hi):
    if x < lo:
        return -1, lo - x
    if x > hi:
        return (2, x - 2 * hi) if x > 2 * hi else (1, x - hi)
    return 0, min(x - lo, hi - x)


def test_control_flow_per_element(rng):
    n = 128
    i = rng.integers(1, 300, n).astype(np.int32)
    f = (rng.standard_normal(n) * 2.5).astype(np.float32)
    d = rng.integers(-3, 4, n).astype(np.int32)
    d[:5] = 0
    outs = [np.full(n, -99, np.int32), np.full(n, -99, np.int32), np.full(n, np.nan, np.float32),
            np.full(n, -99, np.int32), np.full(n, np.nan, np.float32)]
    many_kernel[(1,)](i, f, d, *outs, 5, N=n)
    steps, cls, dist, q, below = outs
    np.testing.assert_array_equal(steps, [collatz_ref(int(v)) for v in i])
    ref = [classify_ref(float(v), -1.0, 1.5) for v in f]
    np.testing.assert_array_equal(cls, [r[0] for r in ref])
    np.testing.assert_allclose(dist, [r[1] for r in ref], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(q, [int(a / b) if b else -7 for a, b in zip(i, d)])  # C division
    np.testing.assert_array_equal(below, [sum(1.0 for k in range(5) if 3 * float(np.float32(v)) > k) for v in f])


@triton.jit
def swap_scale(a0, a1, b0, b1):
    # pack=2: two consecutive elements of each argument, two of each result.
    return a1 * b0, a0 * b1, a0 + a1, a0 - a1


@triton.jit
def pack_kernel(a_ptr, b_ptr, o_ptr, p_ptr, M: tl.constexpr, N: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    a = tl.load(a_ptr + offs)
    b = tl.load(b_ptr + tl.arange(0, N))[None, :]  # broadcast along the rows
    x, y = tl.map_elementwise(swap_scale, a, b, pack=2)
    tl.store(o_ptr + offs, x)
    tl.store(p_ptr + offs, y)


def test_pack_two_takes_consecutive_elements(rng):
    m, n = 4, 8
    a = rng.standard_normal((m, n)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    o = np.full((m, n), np.nan, np.float32)
    p = np.full((m, n), np.nan, np.float32)
    pack_kernel[(1,)](a, b, o, p, M=m, N=n)
    bb = np.broadcast_to(b, (m, n))
    a2, b2 = a.reshape(-1, 2), bb.reshape(-1, 2)
    want_o = np.stack([a2[:, 1] * b2[:, 0], a2[:, 0] * b2[:, 1]], 1).reshape(m, n)
    want_p = np.stack([a2[:, 0] + a2[:, 1], a2[:, 0] - a2[:, 1]], 1).reshape(m, n)
    np.testing.assert_allclose(o, want_o, rtol=1e-6)
    np.testing.assert_allclose(p, want_p, rtol=1e-6)


@triton.jit
def newton_sqrt(x):
    # Iterates until each element converges (a per-element while on floats).
    y = x
    it = 0
    while tl.abs(y * y - x) > 1e-4 * x:
        y = 0.5 * (y + x / y)
        it += 1
    return y, it


@triton.jit
def newton_kernel(x_ptr, y_ptr, it_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    y, it = tl.map_elementwise(newton_sqrt, tl.load(x_ptr + offs))
    tl.store(y_ptr + offs, y)
    tl.store(it_ptr + offs, it)


def test_while_iterates_each_element_to_its_own_count(rng):
    x = rng.uniform(0.5, 1e4, 64).astype(np.float32)
    x[0] = 1.0  # converged at once: zero iterations
    y = np.full(64, np.nan, np.float32)
    it = np.full(64, -1, np.int32)
    newton_kernel[(1,)](x, y, it, N=64)
    np.testing.assert_allclose(y, np.sqrt(x.astype(np.float64)), rtol=1e-4)
    want = []
    for v in x:
        yy, k = np.float32(v), 0
        while abs(np.float32(yy * yy) - v) > np.float32(1e-4) * v:
            yy = np.float32(0.5) * (yy + v / yy)
            k += 1
        want.append(k)
    assert it[0] == 0
    np.testing.assert_array_equal(it, want)
    assert len(set(want)) > 3  # the counts really differ


# ---- errors ------------------------------------------------------------------------------------------------


@triton.jit
def stores_under_condition(x, p):
    if x > 0:
        tl.store(p, x)
    return x


@triton.jit
def bad_store_kernel(x_ptr, N: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, N))
    tl.map_elementwise(stores_under_condition, x, x_ptr + tl.arange(0, N))


@triton.jit
def one_branch_only(x):
    if x > 0:
        y = x
    return y


@triton.jit
def undefined_kernel(x_ptr, N: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, N))
    tl.store(x_ptr + tl.arange(0, N), tl.map_elementwise(one_branch_only, x))


@triton.jit
def bad_pack_kernel(x_ptr, N: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, N))
    tl.store(x_ptr + tl.arange(0, N), tl.map_elementwise(selu_scalar, x, 1.0, pack=3))


@triton.jit
def tensor_if_outside_kernel(x_ptr, N: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, N))
    if x > 0:
        x = x + 1
    tl.store(x_ptr + tl.arange(0, N), x)


def test_errors_are_located():
    x = np.ones(16, np.float32)
    with pytest.raises(Exception, match=r"test_map_elementwise.py:\d+:\d+: error: 'store' in a per-element if of "
                                        r"tl.map_elementwise's function is not supported"):
        bad_store_kernel[(1,)](x, N=16)
    with pytest.raises(Exception, match=r"test_map_elementwise.py:\d+:\d+: error: 'y' is defined in only one "
                                        r"branch of the if"):
        undefined_kernel[(1,)](x, N=16)
    with pytest.raises(Exception, match=r"test_map_elementwise.py:\d+:\d+: error: tl.map_elementwise: pack must be "
                                        r"a power of two"):
        bad_pack_kernel[(1,)](x, N=16)
    # Outside tl.map_elementwise a tensor condition stays an error, as in Triton.
    with pytest.raises(Exception, match=r"test_map_elementwise.py:\d+:\d+: error: if condition must be a scalar"):
        tensor_if_outside_kernel[(1,)](x, N=16)


@pytest.mark.gpu
def test_gpu_map_elementwise(rng):
    torch = pytest.importorskip("torch")
    n = 128
    i = rng.integers(1, 300, n).astype(np.int32)
    f = (rng.standard_normal(n) * 2.5).astype(np.float32)
    d = rng.integers(-3, 4, n).astype(np.int32)
    host = [np.full(n, -99, np.int32), np.full(n, -99, np.int32), np.full(n, np.nan, np.float32),
            np.full(n, -99, np.int32), np.full(n, np.nan, np.float32)]
    many_kernel[(1,)](i, f, d, *host, 5, N=n)
    dev = [torch.from_numpy(h).cuda() for h in host]
    many_kernel[(1,)](*(torch.from_numpy(v).cuda() for v in (i, f, d)), *dev, 5, N=n)
    for h, g in zip(host, dev):
        np.testing.assert_allclose(g.cpu().numpy(), h, rtol=1e-6, atol=1e-6)
    x = torch.from_numpy((rng.standard_normal(1000) * 3).astype(np.float32)).cuda()
    out = torch.full((1000,), float("nan"), device="cuda")
    selu_kernel[(4,)](x, out, 1000, 1.6732, BLOCK=256)
    torch.testing.assert_close(out, torch.where(x > 0, x, 1.6732 * torch.expm1(x)), rtol=1e-5, atol=1e-5)
    a = torch.randn(4, 8, device="cuda")
    b = torch.randn(8, device="cuda")
    o = torch.full((4, 8), float("nan"), device="cuda")
    p = torch.full((4, 8), float("nan"), device="cuda")
    pack_kernel[(1,)](a, b, o, p, M=4, N=8)
    a2, b2 = a.reshape(-1, 2), b.expand(4, 8).reshape(-1, 2)
    torch.testing.assert_close(o, torch.stack([a2[:, 1] * b2[:, 0], a2[:, 0] * b2[:, 1]], 1).reshape(4, 8))

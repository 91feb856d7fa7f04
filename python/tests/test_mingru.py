"""mini_triton.ops.mingru: mingru_chunked (forward, both backward modes, gradcheck) and the MinGRU module."""

import pytest
import torch
from torch import nn

from mini_triton.ops.mingru import (MinGRU, mingru_chunked, mingru_log_space_reference, mingru_reference)

MODES = [True, False]  # backward_use_scan
TOL = {torch.float32: (2e-5, 2e-5), torch.float16: (1e-2, 1e-2), torch.bfloat16: (6e-2, 2e-2)}


def make_ab(B, T, D, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = (0.05 + 0.9 * torch.rand(B, T, D, generator=g, dtype=torch.float64)).to(dtype)  # in (0, 1)
    b = torch.randn(B, T, D, generator=g, dtype=torch.float64).to(dtype)
    return a, b


def run(fn, a, b, w):
    a, b = a.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    h = fn(a, b)
    (h.double() * w).sum().backward()
    return h, a.grad, b.grad


@pytest.mark.parametrize("use_scan", MODES)
@pytest.mark.parametrize("T", [4, 8, 16])
def test_seed_cases_constant_a(use_scan, T):
    """The seed's own cases: a = 0.5, b = 1, B=1, D=4, T_chunk_size=2, D_chunk_size=4, loss h.sum()."""
    a = torch.full((1, T, 4), 0.5)
    b = torch.ones((1, T, 4))
    h, ga, gb = run(lambda a, b: mingru_chunked(a, b, 2, 4, backward_use_scan=use_scan), a, b,
                    torch.ones((1, T, 4), dtype=torch.float64))
    t = torch.arange(T, dtype=torch.float64)
    torch.testing.assert_close(h.double(), (2 - 0.5**t)[None, :, None].expand(1, T, 4))  # 2 (1 - 0.5^{t+1})
    _, ra, rb = run(mingru_reference, a.double(), b.double(), torch.ones((1, T, 4), dtype=torch.float64))
    torch.testing.assert_close(ga.double(), ra, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gb.double(), rb, atol=1e-5, rtol=1e-5)
    # db_t = sum_{s >= t} 0.5^(s - t) = 2 (1 - 0.5^(T - t))
    torch.testing.assert_close(gb.double(), (2 - 2 * 0.5 ** (T - t))[None, :, None].expand(1, T, 4))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("shape,chunks", [((2, 37, 19), (8, 8)), ((1, 100, 33), (16, 8)), ((2, 5, 3), (8, 8))])
def test_forward_matches_float64_reference(dtype, shape, chunks):
    a, b = make_ab(*shape, dtype=dtype, seed=shape[1])
    h = mingru_chunked(a, b, *chunks)
    assert h.dtype == dtype and h.shape == a.shape
    atol, rtol = TOL[dtype]
    torch.testing.assert_close(h.double(), mingru_reference(a.double(), b.double()), atol=atol, rtol=rtol)


@pytest.mark.parametrize("lookback", [False, True])
@pytest.mark.parametrize("use_scan", MODES)
@pytest.mark.parametrize("shape,chunks", [((2, 37, 19), (8, 8)), ((1, 100, 33), (16, 8)), ((2, 37, 19), (5, 7))])
def test_gradients_random_a(use_scan, shape, chunks, lookback):
    """Non-constant a: da_t = dh_t * h_{t-1} with dh_t = g_t + a_{t+1} dh_{t+1}."""
    a, b = make_ab(*shape, seed=shape[1] + chunks[0])
    w = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    h, ga, gb = run(lambda a, b: mingru_chunked(a, b, *chunks, backward_use_scan=use_scan, lookback=lookback),
                    a, b, w)
    rh, ra, rb = run(mingru_reference, a.double(), b.double(), w)
    torch.testing.assert_close(h.double(), rh, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ga.double(), ra, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(gb.double(), rb, atol=1e-4, rtol=1e-4)


def test_backward_modes_give_the_same_gradients():
    a, b = make_ab(3, 37, 19, seed=2)
    w = torch.randn(a.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    _, ga1, gb1 = run(lambda a, b: mingru_chunked(a, b, 8, 8, backward_use_scan=True), a, b, w)
    _, ga2, gb2 = run(lambda a, b: mingru_chunked(a, b, 8, 8, backward_use_scan=False), a, b, w)
    torch.testing.assert_close(ga1, ga2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gb1, gb2, atol=1e-5, rtol=1e-5)
    # the unshifted recurrence (dh_t = g_t + a_t dh_{t+1}) is measurably different for random a
    wf = w.float()
    dh = torch.zeros_like(wf[:, 0])
    wrong = []
    for t in reversed(range(a.shape[1])):
        dh = wf[:, t] + a[:, t] * dh
        wrong.append(dh)
    wrong_db = torch.stack(wrong[::-1], dim=1)
    assert (wrong_db - gb1).abs().max() > 1e-2


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("use_scan", MODES)
def test_gradients_low_precision(dtype, use_scan):
    a, b = make_ab(2, 37, 19, dtype=dtype, seed=4)
    w = torch.randn(a.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    _, ga, gb = run(lambda a, b: mingru_chunked(a, b, 8, 8, backward_use_scan=use_scan), a, b, w)
    _, ra, rb = run(mingru_reference, a.double(), b.double(), w)
    assert ga.dtype == dtype and gb.dtype == dtype
    tol = 2e-2 if dtype == torch.float16 else 1e-1
    torch.testing.assert_close(ga.double(), ra, atol=tol, rtol=tol)
    torch.testing.assert_close(gb.double(), rb, atol=tol, rtol=tol)


@pytest.mark.parametrize("use_scan", MODES)
@pytest.mark.parametrize("chunks", [(4, 2), (3, 5)])
def test_gradcheck_float64(use_scan, chunks):
    a, b = make_ab(2, 9, 5, dtype=torch.float64, seed=6)
    fn = lambda a, b: mingru_chunked(a, b, *chunks, backward_use_scan=use_scan)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (a.requires_grad_(), b.requires_grad_()), eps=1e-6, atol=1e-8)


def test_numpy_inputs():
    a, b = make_ab(2, 11, 6, seed=7)
    h = mingru_chunked(a.numpy(), b.numpy(), 4, 4)
    torch.testing.assert_close(torch.from_numpy(h).double(), mingru_reference(a.double(), b.double()),
                               atol=2e-5, rtol=2e-5)


def test_bad_chunk_sizes():
    a, b = make_ab(1, 4, 4)
    with pytest.raises(ValueError, match="chunk sizes must be positive"):
        mingru_chunked(a, b, 0, 4)


def reference_layer(layer: MinGRU, x, h0=None):
    """The layer's recurrence in plain torch on the layer's own parameters."""
    a, b = layer.gates(x)
    if h0 is not None:
        b = torch.cat([b[:, :1] + a[:, :1] * h0.unsqueeze(1), b[:, 1:]], dim=1)
    return mingru_reference(a, b)


@pytest.mark.parametrize("log_space", [False, True])
@pytest.mark.parametrize("use_scan", MODES)
def test_layer_float64_forward_and_gradients(log_space, use_scan):
    torch.manual_seed(8)
    layer = MinGRU(6, 11, log_space=log_space, T_chunk_size=4, D_chunk_size=4, backward_use_scan=use_scan,
                   dtype=torch.float64)
    x = torch.randn(2, 13, 6, dtype=torch.float64)
    h0 = torch.rand(2, 11, dtype=torch.float64) + 0.1  # positive, so that the log-space reference takes it
    for init in (None, h0):
        layer.zero_grad()
        h = layer(x, init)
        w = torch.randn_like(h)
        (h * w).sum().backward()
        got = [p.grad.clone() for p in layer.parameters()]
        layer.zero_grad()
        ref = reference_layer(layer, x, init)
        (ref * w).sum().backward()
        torch.testing.assert_close(h, ref, atol=1e-12, rtol=1e-10)
        for g, r in zip(got, (p.grad for p in layer.parameters())):
            torch.testing.assert_close(g, r, atol=1e-10, rtol=1e-8)
        if log_space:  # the paper's logcumsumexp form gives the same states
            paper = mingru_log_space_reference(layer.linear_z(x), layer.linear_h(x), init)
            torch.testing.assert_close(h, paper, atol=1e-10, rtol=1e-8)


def test_layer_trains_in_a_model():
    torch.manual_seed(9)
    model = nn.Sequential(nn.Linear(3, 8), MinGRU(8, 12, T_chunk_size=4, D_chunk_size=8), nn.Linear(12, 1))
    x = torch.randn(4, 10, 3)
    y = torch.cumsum(x[..., :1], dim=1) * 0.3  # a running sum: needs the recurrence
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]

"""mini_triton.ops.muon: Newton-Schulz kernels and the Muon optimizer against pure-torch references."""

import pytest

torch = pytest.importorskip("torch")

import mini_triton.language as tl  # noqa: E402
from mini_triton.ops.muon import (  # noqa: E402
    Muon, gram, matmul_epilogue, muon_reference_step, newton_schulz, newton_schulz_ref)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(4321)


def randn(gen, *shape, dtype=torch.float64):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("shape", [(37, 21), (5, 70), (64, 16)])
def test_gram_mirrors_upper_tiles(gen, shape):
    x = randn(gen, *shape)
    a = gram(x, tl.float64)
    torch.testing.assert_close(a, x @ x.t(), rtol=1e-13, atol=1e-13)
    assert torch.equal(a, a.t())


def test_matmul_epilogue(gen):
    p, q, r = randn(gen, 19, 45), randn(gen, 45, 33), randn(gen, 19, 33)
    out = matmul_epilogue(p, q, r, 2.0315, -4.775, tl.float64)
    torch.testing.assert_close(out, 2.0315 * (p @ q) - 4.775 * r, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("shape", [(24, 40), (40, 24), (33, 17), (16, 16), (80, 48)])  # (80, 48): 2x2 gram tiles
def test_newton_schulz_vs_reference(gen, shape):
    g = randn(gen, *shape)
    o = newton_schulz(g)
    torch.testing.assert_close(o, newton_schulz_ref(g), rtol=1e-12, atol=1e-12)
    o32 = newton_schulz(g.float())
    assert o32.dtype == torch.float32
    torch.testing.assert_close(o32.double(), newton_schulz_ref(g), rtol=1e-5, atol=1e-5)
    s = torch.linalg.svdvals(o)
    assert s.max() < 1.25 and s.min() > 0.6  # quintic iteration: singular values near 1, not exactly 1


def _model(dtype=torch.float64):
    torch.manual_seed(7)
    return torch.nn.Sequential(torch.nn.Linear(20, 36, dtype=dtype), torch.nn.Tanh(),
                               torch.nn.Linear(36, 5, dtype=dtype))


@pytest.mark.parametrize("nesterov", [True, False])
def test_muon_matches_reference_step_for_step(gen, nesterov):
    model = _model()
    ref = [p.detach().clone() for p in model.parameters()]
    bufs = [torch.zeros_like(p) for p in ref]
    opt = Muon(model.parameters(), lr=0.05, momentum=0.95, nesterov=nesterov, weight_decay=0.01,
               adamw=lambda ps: torch.optim.AdamW(ps, lr=1e-2))
    ref_adam_params = [p.clone().requires_grad_(True) for p in ref if p.dim() != 2]
    ref_adam = torch.optim.AdamW(ref_adam_params, lr=1e-2)
    x, y = randn(gen, 8, 20), randn(gen, 8, 5)
    for _ in range(4):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        grads = [p.grad.clone() for p in model.parameters()]
        opt.step()
        ai = 0
        for i, (p, g) in enumerate(zip(ref, grads)):
            if p.dim() == 2:
                muon_reference_step(p, g, bufs[i], lr=0.05, momentum=0.95, nesterov=nesterov, weight_decay=0.01)
            else:
                ref_adam_params[ai].grad = g
                ai += 1
        ref_adam.step()
        ai = 0
        for p, r in zip(model.parameters(), ref):
            if p.dim() != 2:
                r = ref_adam_params[ai].detach()
                ai += 1
            torch.testing.assert_close(p.detach(), r, rtol=1e-11, atol=1e-11)
    # the parameters actually moved
    assert (model[0].weight.detach() - _model()[0].weight.detach()).abs().max() > 1e-2


def test_muon_fp32_close_to_reference(gen):
    model = _model(torch.float32)
    w = model[0].weight
    ref = w.detach().double().clone()
    buf = torch.zeros_like(ref)
    opt = Muon([w], lr=0.02)
    for _ in range(3):
        g = randn(gen, *w.shape, dtype=torch.float32)
        w.grad = g.clone()
        opt.step()
        muon_reference_step(ref, g.double(), buf, lr=0.02)
        torch.testing.assert_close(w.detach().double(), ref, rtol=1e-5, atol=1e-5)


def test_muon_needs_fallback_for_non_matrices():
    model = _model()
    with pytest.raises(ValueError, match="adamw"):
        Muon(model.parameters())
    with pytest.raises(ValueError, match="2-D"):
        newton_schulz(torch.ones(3))

"""mini_triton.ops.attention: flash attention forward + FlashAttention-2 backward against float64 torch."""

import math

import pytest

torch = pytest.importorskip("torch")

from mini_triton.ops.attention import (  # noqa: E402
    CausalSelfAttention, attention_ref, flash_attention, flash_attention_forward)
from mini_triton.ops.llm import RotaryEmbedding  # noqa: E402


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


def randn(gen, *shape, dtype=torch.float32, scale=1.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)


def grads(out_fn, inputs, dy):
    inputs = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = out_fn(*inputs)
    out.backward(dy)
    return out.detach(), [t.grad for t in inputs]


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("shape", [(2, 3, 37, 16), (1, 2, 50, 32), (1, 1, 16, 64), (1, 2, 21, 48), (1, 1, 9, 6)])
def test_flash_attention_fp32_vs_fp64(gen, causal, shape):
    q, k, v = (randn(gen, *shape, scale=1.5) for _ in range(3))
    do = randn(gen, *shape)
    fn = lambda a, b, c: flash_attention(a, b, c, causal=causal)  # noqa: E731
    ref = lambda a, b, c: attention_ref(a, b, c, causal=causal)  # noqa: E731
    o, (dq, dk, dv) = grads(fn, [q, k, v], do)
    o_ref, (dq_ref, dk_ref, dv_ref) = grads(ref, [q.double(), k.double(), v.double()], do.double())
    assert o.dtype == dq.dtype == dk.dtype == dv.dtype == torch.float32
    torch.testing.assert_close(o.double(), o_ref, rtol=1e-5, atol=1e-5)
    for got, want in ((dq, dq_ref), (dk, dk_ref), (dv, dv_ref)):
        torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-5)


def test_causal_differs_from_full_and_stores_lse(gen):
    q, k, v = (randn(gen, 2, 2, 21, 16) for _ in range(3))
    scale = 0.3
    o_c, lse_c = flash_attention_forward(q, k, v, True, scale)
    o_f, lse_f = flash_attention_forward(q, k, v, False, scale)
    s = (q.double() @ k.double().transpose(-1, -2)) * scale
    mask = torch.ones(21, 21, dtype=torch.bool).tril()
    torch.testing.assert_close(lse_f.double(), torch.logsumexp(s, -1), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(lse_c.double(), torch.logsumexp(s.masked_fill(~mask, float("-inf")), -1),
                               rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(o_c.double(), attention_ref(q.double(), k.double(), v.double(), True, scale),
                               rtol=1e-5, atol=1e-5)
    # row 0 of causal attention is v[..., 0, :] exactly; the full attention's is not
    torch.testing.assert_close(o_c[:, :, 0], v[:, :, 0], rtol=1e-6, atol=1e-6)
    assert (o_f[:, :, 0] - v[:, :, 0]).abs().max() > 1e-2


@pytest.mark.parametrize("causal", [True, False])
def test_flash_attention_gradcheck_fp64(gen, causal):
    q, k, v = (randn(gen, 1, 1, 9, 16, dtype=torch.float64).requires_grad_(True) for _ in range(3))
    fn = lambda a, b, c: flash_attention(a, b, c, causal=causal, sm_scale=0.5)  # noqa: E731
    # float64 inputs run float64 kernels
    torch.testing.assert_close(fn(q, k, v), attention_ref(q, k, v, causal, 0.5), rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(fn, (q, k, v), eps=1e-6, atol=1e-7)


def test_flash_attention_bf16(gen):
    shape = (2, 2, 33, 32)
    q, k, v = (randn(gen, *shape, dtype=torch.bfloat16) for _ in range(3))
    do = randn(gen, *shape, dtype=torch.bfloat16)
    o, (dq, dk, dv) = grads(lambda a, b, c: flash_attention(a, b, c), [q, k, v], do)
    o_ref, grads_ref = grads(lambda a, b, c: attention_ref(a, b, c), [q.double(), k.double(), v.double()],
                             do.double())
    assert o.dtype == dq.dtype == torch.bfloat16
    torch.testing.assert_close(o.double(), o_ref, rtol=2e-2, atol=2e-2)
    for got, want in zip((dq, dk, dv), grads_ref):
        torch.testing.assert_close(got.double(), want, rtol=5e-2, atol=5e-2)


def test_flash_attention_rejects_bad_inputs(gen):
    q = randn(gen, 1, 1, 8, 0)
    with pytest.raises(ValueError, match="head dim must be positive"):
        flash_attention(q, q, q)
    q = randn(gen, 1, 1, 8, 16)
    with pytest.raises(ValueError, match="one shape"):
        flash_attention(q, q, randn(gen, 1, 1, 9, 16))


@pytest.mark.parametrize("use_rope", [False, True])
def test_causal_self_attention_module(gen, use_rope):
    torch.manual_seed(0)
    d_model, n_heads, S = 64, 4, 19
    rope = RotaryEmbedding(d_model // n_heads, 32) if use_rope else None
    m = CausalSelfAttention(d_model, n_heads, rope=rope, dtype=torch.float64)
    x = randn(gen, 2, S, d_model, dtype=torch.float64).requires_grad_(True)
    y = m(x)
    y_ref = m.forward_ref(x)
    torch.testing.assert_close(y, y_ref, rtol=1e-11, atol=1e-11)
    dy = randn(gen, *y.shape, dtype=torch.float64)
    g = torch.autograd.grad(y, [x, m.w_qkv, m.w_o], dy)
    g_ref = torch.autograd.grad(y_ref, [x, m.w_qkv, m.w_o], dy)
    for a, b in zip(g, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    # causality: changing the last position does not change earlier outputs
    x2 = x.detach().clone()
    x2[:, -1] += 1.0
    torch.testing.assert_close(m(x2)[:, :-1], y.detach()[:, :-1], rtol=0, atol=1e-12)
    assert math.isfinite(y.sum().item())


@pytest.mark.parametrize("shape,causal,scale", [((1, 1, 1, 16), True, None), ((1, 2, 70, 16), True, 0.2),
                                                ((2, 1, 65, 16), False, 0.7)])
def test_flash_attention_edge_lengths_and_scales(gen, shape, causal, scale):
    # S = 1, and S spanning three blocks with a one-row tail
    q, k, v = (randn(gen, *shape) for _ in range(3))
    do = randn(gen, *shape)
    fn = lambda a, b, c: flash_attention(a, b, c, causal=causal, sm_scale=scale)  # noqa: E731
    ref = lambda a, b, c: attention_ref(a, b, c, causal=causal, sm_scale=scale)  # noqa: E731
    o, g = grads(fn, [q, k, v], do)
    o_ref, g_ref = grads(ref, [q.double(), k.double(), v.double()], do.double())
    torch.testing.assert_close(o.double(), o_ref, rtol=1e-5, atol=1e-5)
    for got, want in zip(g, g_ref):
        torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-5)


def test_flash_attention_fp16_and_empty(gen):
    q, k, v = (randn(gen, 1, 2, 23, 16, dtype=torch.float16) for _ in range(3))
    o = flash_attention(q, k, v)
    assert o.dtype == torch.float16
    torch.testing.assert_close(o.double(), attention_ref(q.double(), k.double(), v.double()), rtol=5e-3,
                               atol=5e-3)
    e = torch.empty(2, 3, 0, 16)
    assert flash_attention(e, e, e).shape == (2, 3, 0, 16)

"""mini_triton.ops.llm: RMSNorm, RoPE and SwiGLU kernels (forward + backward) against float64 torch references."""

import pytest

torch = pytest.importorskip("torch")

from mini_triton.ops.llm import (  # noqa: E402
    RMSNorm, RotaryEmbedding, SwiGLUMLP, apply_rotary, apply_rotary_ref, rms_norm, rms_norm_ref, rope_tables,
    swiglu, swiglu_matmul, swiglu_mlp_ref)


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


# ----------------------------------------------------------------------------------------------------------- RMSNorm
@pytest.mark.parametrize("shape", [(37, 100), (2, 5, 33), (1, 7)])
def test_rmsnorm_forward_backward_fp32(gen, shape):
    x = randn(gen, *shape, scale=2.0)
    w = randn(gen, shape[-1]) + 1.0
    dy = randn(gen, *shape)
    y, (dx, dw) = grads(lambda a, b: rms_norm(a, b, 1e-5), [x, w], dy)
    y_ref, (dx_ref, dw_ref) = grads(lambda a, b: rms_norm_ref(a, b, 1e-5), [x.double(), w.double()], dy.double())
    assert y.dtype == torch.float32 and dx.dtype == torch.float32 and dw.dtype == torch.float32
    torch.testing.assert_close(y.double(), y_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(dx.double(), dx_ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dw.double(), dw_ref, rtol=1e-4, atol=1e-4)


def test_rmsnorm_stores_rstd_and_dw_is_deterministic(gen):
    from mini_triton.ops.llm import rms_norm_backward, rms_norm_forward
    x = randn(gen, 29, 48)  # 29 rows over 8 programs: the last program has a partial row range
    w = randn(gen, 48)
    y, rstd = rms_norm_forward(x, w, 1e-6)
    torch.testing.assert_close(rstd.double(), torch.rsqrt(x.double().pow(2).mean(-1) + 1e-6), rtol=1e-6, atol=0)
    dy = randn(gen, 29, 48)
    dx1, dw1 = rms_norm_backward(dy, x, w, rstd)
    dx2, dw2 = rms_norm_backward(dy, x, w, rstd)
    assert torch.equal(dw1, dw2) and torch.equal(dx1, dx2)


def test_rmsnorm_gradcheck_fp64(gen):
    x = randn(gen, 5, 7, dtype=torch.float64).requires_grad_(True)
    w = randn(gen, 7, dtype=torch.float64).requires_grad_(True)
    # float64 inputs run float64 kernels: agreement far below float32 rounding
    torch.testing.assert_close(rms_norm(x, w, 1e-6), rms_norm_ref(x, w, 1e-6), rtol=1e-13, atol=1e-13)
    assert torch.autograd.gradcheck(lambda a, b: rms_norm(a, b, 1e-6), (x, w), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_rmsnorm_half_precision(gen, dtype):
    x = randn(gen, 37, 100, dtype=dtype, scale=3.0)
    norm = RMSNorm(100, eps=1e-6, dtype=dtype)
    with torch.no_grad():
        norm.weight.copy_(randn(gen, 100, dtype=dtype) + 1.0)
    dy = randn(gen, 37, 100, dtype=dtype)
    xg = x.clone().requires_grad_(True)
    y = norm(xg)
    y.backward(dy)
    assert y.dtype == dtype and xg.grad.dtype == dtype and norm.weight.grad.dtype == dtype
    y_ref, (dx_ref, dw_ref) = grads(lambda a, b: rms_norm_ref(a, b, 1e-6), [x.double(), norm.weight.double()],
                                    dy.double())
    tol = 2e-2 if dtype == torch.bfloat16 else 3e-3
    torch.testing.assert_close(y.double(), y_ref, rtol=tol, atol=tol)
    torch.testing.assert_close(xg.grad.double(), dx_ref, rtol=tol, atol=tol)
    torch.testing.assert_close(norm.weight.grad.double(), dw_ref, rtol=tol, atol=tol * 10)


# -------------------------------------------------------------------------------------------------------------- RoPE
def test_rope_tables_have_half_width():
    cos, sin = rope_tables(16, 13)
    assert cos.shape == (13, 8) and sin.shape == (13, 8)
    torch.testing.assert_close(cos[0], torch.ones(8))
    torch.testing.assert_close(sin[3, 0], torch.sin(torch.tensor(3.0)))  # frequency 1 for pair 0


@pytest.mark.parametrize("hq,hk", [(3, 3), (4, 2)])
def test_rope_forward_backward_fp32(gen, hq, hk):
    B, S, D = 2, 13, 16
    rope = RotaryEmbedding(D, max_seq_len=20)
    q, k = randn(gen, B, S, hq, D), randn(gen, B, S, hk, D)
    dq, dk = randn(gen, B, S, hq, D), randn(gen, B, S, hk, D)
    qg, kg = q.clone().requires_grad_(True), k.clone().requires_grad_(True)
    qr, kr = rope.apply(qg, kg)
    torch.autograd.backward([qr, kr], [dq, dk])
    cos, sin = rope_tables(D, 20, dtype=torch.float64)
    qd, kd = q.double().requires_grad_(True), k.double().requires_grad_(True)
    qr_ref, kr_ref = apply_rotary_ref(qd, cos, sin), apply_rotary_ref(kd, cos, sin)
    torch.autograd.backward([qr_ref, kr_ref], [dq.double(), dk.double()])
    torch.testing.assert_close(qr.double(), qr_ref.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kr.double(), kr_ref.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(qg.grad.double(), qd.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kg.grad.double(), kd.grad, rtol=1e-5, atol=1e-5)


def test_rope_scores_depend_on_relative_position_only(gen):
    D = 8
    rope = RotaryEmbedding(D, max_seq_len=16)
    v, u = randn(gen, D), randn(gen, D)
    q = v.expand(1, 16, 1, D).contiguous()
    k = u.expand(1, 16, 1, D).contiguous()
    qr, kr = rope.apply(q, k)
    scores = (qr[0, :, 0] @ kr[0, :, 0].t()).double()  # scores[m, n] = f(m - n)
    torch.testing.assert_close(scores[5, 2], scores[12, 9], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(scores[0, 0], (v @ u).double(), rtol=1e-5, atol=1e-5)


def test_rope_gradcheck_fp64(gen):
    cos, sin = rope_tables(6, 5, dtype=torch.float64)
    q = randn(gen, 2, 4, 2, 6, dtype=torch.float64).requires_grad_(True)
    k = randn(gen, 2, 4, 1, 6, dtype=torch.float64).requires_grad_(True)
    torch.testing.assert_close(apply_rotary(q, k, cos, sin)[1], apply_rotary_ref(k, cos, sin), rtol=1e-13,
                               atol=1e-13)
    assert torch.autograd.gradcheck(lambda a, b: apply_rotary(a, b, cos, sin), (q, k), eps=1e-6, atol=1e-7)


def test_rope_in_place(gen):
    B, S, H, D = 2, 13, 3, 16
    rope = RotaryEmbedding(D, max_seq_len=13)
    q, k = randn(gen, B, S, H, D), randn(gen, B, S, H, D)
    q_exp, k_exp = rope.apply(q, k)
    q2, k2 = q.clone(), k.clone()
    qp, kp = q2.data_ptr(), k2.data_ptr()
    q_out, k_out = rope.apply(q2, k2, inplace=True)
    assert q_out.data_ptr() == qp and k_out.data_ptr() == kp
    torch.testing.assert_close(q2, q_exp, rtol=0, atol=0)
    torch.testing.assert_close(k2, k_exp, rtol=0, atol=0)
    # in place on non-leaf tensors inside an autograd graph: gradients as out of place
    qg, kg = q.clone().requires_grad_(True), k.clone().requires_grad_(True)
    q3, k3 = qg * 1.0, kg * 1.0
    rope.apply(q3, k3, inplace=True)
    (q3 * q_exp).sum().backward(inputs=[qg])
    qd = q.clone().requires_grad_(True)
    (rope.apply(qd, k)[0] * q_exp).sum().backward()
    torch.testing.assert_close(qg.grad, qd.grad, rtol=0, atol=0)


def test_rope_strided_input_and_bf16(gen):
    B, S, H, D = 2, 13, 3, 16
    rope = RotaryEmbedding(D, max_seq_len=32)
    qkv = randn(gen, B, S, 3, H, D, dtype=torch.bfloat16)
    q, k = qkv[:, :, 0], qkv[:, :, 1]  # strided views (last dim contiguous)
    qr, kr = rope.apply(q, k)
    assert qr.dtype == torch.bfloat16
    cos, sin = rope_tables(D, 32, dtype=torch.float64)
    torch.testing.assert_close(qr.double(), apply_rotary_ref(q.double(), cos, sin), rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(kr.double(), apply_rotary_ref(k.double(), cos, sin), rtol=2e-2, atol=2e-2)


def test_rope_rejects_wrong_table_width():
    q = torch.randn(1, 4, 2, 8)
    cos, sin = torch.randn(4, 8), torch.randn(4, 8)  # full width instead of D/2
    with pytest.raises(ValueError, match="tables"):
        apply_rotary(q, q.clone(), cos, sin)


# ------------------------------------------------------------------------------------------------------------ SwiGLU
def _swiglu_ref(a, b):
    return torch.nn.functional.silu(a) * b


def test_swiglu_gate_forward_backward_fp32(gen):
    a, b, dh = randn(gen, 37, 100, scale=3.0), randn(gen, 37, 100), randn(gen, 37, 100)
    h, (da, db) = grads(swiglu, [a, b], dh)
    h_ref, (da_ref, db_ref) = grads(_swiglu_ref, [a.double(), b.double()], dh.double())
    torch.testing.assert_close(h.double(), h_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(da.double(), da_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(db.double(), db_ref, rtol=1e-5, atol=1e-6)


def test_swiglu_gradcheck_fp64(gen):
    a = randn(gen, 3, 11, dtype=torch.float64, scale=2.0).requires_grad_(True)
    b = randn(gen, 3, 11, dtype=torch.float64).requires_grad_(True)
    torch.testing.assert_close(swiglu(a, b), _swiglu_ref(a, b), rtol=1e-13, atol=1e-13)
    assert torch.autograd.gradcheck(swiglu, (a, b), eps=1e-6, atol=1e-7)


def test_swiglu_matmul_fused_forward_backward_fp32(gen):
    x, w1, w3 = randn(gen, 2, 19, 24), randn(gen, 24, 40, scale=0.3), randn(gen, 24, 40, scale=0.3)
    dh = randn(gen, 2, 19, 40)
    h, g = grads(swiglu_matmul, [x, w1, w3], dh)
    ref = lambda x_, a_, b_: _swiglu_ref(x_ @ a_, x_ @ b_)  # noqa: E731
    h_ref, g_ref = grads(ref, [x.double(), w1.double(), w3.double()], dh.double())
    torch.testing.assert_close(h.double(), h_ref, rtol=1e-4, atol=1e-5)
    for got, want in zip(g, g_ref):
        torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-4)


def test_swiglu_matmul_gradcheck_fp64(gen):
    x = randn(gen, 5, 6, dtype=torch.float64).requires_grad_(True)
    w1 = randn(gen, 6, 7, dtype=torch.float64).requires_grad_(True)
    w3 = randn(gen, 6, 7, dtype=torch.float64).requires_grad_(True)
    torch.testing.assert_close(swiglu_matmul(x, w1, w3), _swiglu_ref(x @ w1, x @ w3), rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(swiglu_matmul, (x, w1, w3), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_swiglu_mlp_module(gen, fused, dtype):
    mlp = SwiGLUMLP(24, 56, fused=fused, dtype=dtype)
    x = randn(gen, 3, 5, 24, dtype=dtype)
    dy = randn(gen, 3, 5, 24, dtype=dtype)
    xg = x.clone().requires_grad_(True)
    y = mlp(xg)
    y.backward(dy)
    assert y.shape == (3, 5, 24) and y.dtype == dtype
    ws = [mlp.w1, mlp.w3, mlp.w2]
    y_ref, g_ref = grads(swiglu_mlp_ref, [x.double()] + [w.double() for w in ws], dy.double())
    tol = 1e-4 if dtype == torch.float32 else 5e-2
    torch.testing.assert_close(y.double(), y_ref, rtol=tol, atol=tol)
    for got, want in zip([xg.grad] + [w.grad for w in ws], g_ref):
        torch.testing.assert_close(got.double(), want, rtol=tol, atol=tol)


def test_rmsnorm_bf16_activations_fp32_weight(gen):
    x = randn(gen, 9, 40, dtype=torch.bfloat16, scale=2.0)
    w = (randn(gen, 40) + 1.0).requires_grad_(True)
    dy = randn(gen, 9, 40, dtype=torch.bfloat16)
    xg = x.clone().requires_grad_(True)
    y = rms_norm(xg, w, 1e-6)
    y.backward(dy)
    assert y.dtype == torch.bfloat16 and xg.grad.dtype == torch.bfloat16 and w.grad.dtype == torch.float32
    y_ref, (dx_ref, dw_ref) = grads(lambda a, b: rms_norm_ref(a, b, 1e-6), [x.double(), w.detach().double()],
                                    dy.double())
    torch.testing.assert_close(y.double(), y_ref, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(xg.grad.double(), dx_ref, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(w.grad.double(), dw_ref, rtol=1e-4, atol=1e-4)  # fp32 accumulation of bf16 data

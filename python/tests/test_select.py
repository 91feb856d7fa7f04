"""mini_triton.ops.select (ModelConfig, benchmarks, auto_select_kernels) and mini_triton.ops.library (the ops
as torch custom ops with a PyTorch fallback, torch.compile)."""

import warnings

import pytest

torch = pytest.importorskip("torch")

from mini_triton.ops import attention as ops_attn  # noqa: E402
from mini_triton.ops import library as L  # noqa: E402
from mini_triton.ops import llm as ops_llm  # noqa: E402
from mini_triton.ops import muon as ops_muon  # noqa: E402
from mini_triton.ops import select  # noqa: E402

FIELDS = {"pytorch_time", "triton_time", "speedup", "use_triton"}
FAST = dict(device="cpu", budget_ms=1.0, max_reps=3)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(7)


def randn(gen, *shape, dtype=torch.float32, scale=1.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)


def grads(fn, inputs, seed=3):
    inputs = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    g = torch.Generator().manual_seed(seed)
    torch.autograd.backward(list(outs), [torch.randn(o.shape, generator=g, dtype=o.dtype) for o in outs])
    return [o.detach() for o in outs], [t.grad for t in inputs]


# ---------------------------------------------------------------------------------------------------- selection
def test_model_config_defaults_are_the_seeds():
    cfg = select.ModelConfig()
    assert (cfg.d_model, cfg.n_heads, cfg.n_layers, cfg.d_ff, cfg.max_seq_len, cfg.batch_size) == \
        (384, 8, 6, 1536, 256, 16)
    assert cfg.d_head == 48
    assert cfg.kernel_flags() == {f: True for f in select.KERNEL_FLAGS} and cfg.benchmark_kernels
    with pytest.raises(ValueError, match="multiple of n_heads"):
        select.ModelConfig(d_model=30, n_heads=4)


def test_seed_names_import_from_ops_llm():
    from mini_triton.ops.llm import ModelConfig, Muon, auto_select_kernels, benchmark_rms_norm  # noqa: F401
    assert ModelConfig is select.ModelConfig and auto_select_kernels is select.auto_select_kernels
    import mini_triton.ops as ops
    assert ops.benchmark_attention is select.benchmark_attention and ops.Muon is ops_muon.Muon


def test_benchmark_returns_the_fields_and_caches(monkeypatch):
    select.clear_benchmark_cache()
    r = select.benchmark_rms_norm(2, 3, 20, **FAST)
    assert FIELDS <= set(r)
    assert r["pytorch_time"] > 0 and r["triton_time"] > 0
    assert r["speedup"] == pytest.approx(r["pytorch_time"] / r["triton_time"])
    assert r["use_triton"] == (r["speedup"] > 1.0)
    assert r["shape"] == [2, 3, 20] and r["device"] == "cpu" and "error" not in r
    # cached per (op, shape, dtype, device): the second call times nothing
    monkeypatch.setattr(select, "_time_ms", lambda *a, **k: pytest.fail("not cached"))
    assert select.benchmark_rms_norm(2, 3, 20, **FAST) == r
    monkeypatch.undo()
    r2 = select.benchmark_rms_norm(2, 3, 24, **FAST)  # another shape: timed again
    assert r2["shape"] == [2, 3, 24]
    assert len(select._CACHE) == 2


def test_benchmark_with_a_failing_kernel_chooses_pytorch(monkeypatch):
    select.clear_benchmark_cache()

    def boom(*a, **k):
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(ops_llm, "rms_norm_forward", boom)
    with pytest.warns(RuntimeWarning, match="rms_norm kernel unusable.*kernel exploded"):
        r = select.benchmark_rms_norm(2, 3, 20, **FAST)
    assert r["use_triton"] is False and r["triton_time"] is None and r["speedup"] == 0.0
    assert "kernel exploded" in r["error"] and r["pytorch_time"] > 0


def test_benchmark_with_a_wrong_kernel_chooses_pytorch(monkeypatch):
    select.clear_benchmark_cache()
    real = ops_llm._rope_launch

    def wrong(q, k, q_out, k_out, cos, sin, backward):
        real(q, k, q_out, k_out, cos, sin, backward)
        q_out.mul_(1.5)

    monkeypatch.setattr(ops_llm, "_rope_launch", wrong)
    with pytest.warns(RuntimeWarning, match="differs from PyTorch"):
        r = select.benchmark_rotary(1, 4, 2, 16, **FAST)
    assert r["use_triton"] is False and "differs" in r["error"]


def test_auto_select_kernels_sets_the_config(monkeypatch):
    select.clear_benchmark_cache()
    cfg = select.ModelConfig(d_model=32, n_heads=2, d_ff=48, max_seq_len=8, batch_size=2, use_triton_mlp=False)
    sel = select.auto_select_kernels(cfg, **FAST)
    assert set(sel["results"]) == set(select.KERNEL_FLAGS) - {"use_triton_mlp"}
    for flag, r in sel["results"].items():
        assert FIELDS <= set(r) and "error" not in r, (flag, r)
        assert sel[flag] == r["use_triton"] == getattr(cfg, flag)
    assert sel["use_triton_mlp"] is False and cfg.use_triton_mlp is False  # off stays off, untimed
    assert sel["results"]["use_triton_attention"]["shape"] == [2, 8, 2, 16]
    # benchmark_kernels=False: the flags as they are, nothing timed
    monkeypatch.setattr(select, "_time_ms", lambda *a, **k: pytest.fail("timed"))
    cfg2 = select.ModelConfig(benchmark_kernels=False, use_triton_rotary=False)
    assert select.auto_select_kernels(cfg2) == cfg2.kernel_flags()


# ---------------------------------------------------------------------------------------------------- fallback
def test_failing_kernel_falls_back_with_a_warning(monkeypatch, gen):
    x, w = randn(gen, 3, 5, 24), randn(gen, 24) + 1.0
    (y_ok,), g_ok = grads(lambda a, b: L.rms_norm(a, b, 1e-5), [x, w])

    def boom(*a, **k):
        raise RuntimeError("no kernel today")

    monkeypatch.setattr(ops_llm, "rms_norm_forward", boom)
    monkeypatch.setattr(ops_llm, "rms_norm_backward", boom)
    with pytest.warns(RuntimeWarning) as record:
        (y, ), g = grads(lambda a, b: L.rms_norm(a, b, 1e-5), [x, w])
    messages = [str(r.message) for r in record]
    assert any("rms_norm kernel failed (RuntimeError: no kernel today)" in m for m in messages), messages
    assert any("rms_norm backward kernel failed" in m for m in messages), messages
    torch.testing.assert_close(y, y_ok, rtol=1e-5, atol=1e-5)
    for got, want in zip(g, g_ok):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="no kernel today"), L.strict():
        L.rms_norm(x, w)


@pytest.mark.parametrize("op", ["attention", "swiglu_matmul", "rope", "newton_schulz"])
def test_every_op_falls_back(monkeypatch, gen, op):
    def boom(*a, **k):
        raise RuntimeError("broken")

    if op == "attention":
        q, k, v = (randn(gen, 1, 2, 9, 16) for _ in range(3))
        args, fn, ref = [q, k, v], L.flash_attention, lambda q, k, v: ops_attn.attention_ref(q, k, v, True)
        monkeypatch.setattr(ops_attn, "flash_attention_forward", boom)
        monkeypatch.setattr(ops_attn, "flash_attention_backward", boom)
    elif op == "swiglu_matmul":
        args, fn, ref = [randn(gen, 5, 16), randn(gen, 16, 8), randn(gen, 16, 8)], L.swiglu_matmul, \
            L.swiglu_matmul_torch
        monkeypatch.setattr(ops_llm.SwiGLUMatmulFunction, "forward", boom)
        monkeypatch.setattr(ops_llm.SwiGLUFunction, "backward", boom)
    elif op == "rope":
        cos, sin = ops_llm.rope_tables(16, 4)
        args = [randn(gen, 2, 4, 3, 16), randn(gen, 2, 4, 1, 16)]
        fn = lambda q, k: L.apply_rotary(q, k, cos, sin)  # noqa: E731
        ref = lambda q, k: (ops_llm.apply_rotary_ref(q, cos, sin), ops_llm.apply_rotary_ref(k, cos, sin))  # noqa
        monkeypatch.setattr(ops_llm, "_rope_launch", boom)
    else:
        g = randn(gen, 12, 20)
        monkeypatch.setattr(ops_muon, "newton_schulz", boom)
        with pytest.warns(RuntimeWarning, match="newton_schulz kernel failed"):
            got = L.newton_schulz(g)
        torch.testing.assert_close(got, ops_muon.newton_schulz_ref(g), rtol=1e-4, atol=1e-5)
        return
    with pytest.warns(RuntimeWarning, match="kernel failed.*broken"):
        outs, gs = grads(fn, args)
    outs_ref, gs_ref = grads(ref, args)
    for got, want in zip(outs + gs, outs_ref + gs_ref):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


# -------------------------------------------------------------------------------------------------- custom ops
needs_custom_op = pytest.mark.skipif(not L.HAS_CUSTOM_OP, reason="torch.library.custom_op unavailable")


@needs_custom_op
def test_custom_ops_match_the_eager_ops_forward_and_backward(gen):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no silent fallback here
        x, w = randn(gen, 2, 7, 40), randn(gen, 40) + 1.0
        cases = [(lambda a, b: L.rms_norm(a, b, 1e-6), lambda a, b: ops_llm.rms_norm(a, b, 1e-6), [x, w])]
        cos, sin = ops_llm.rope_tables(16, 9)
        cases.append((lambda q, k: L.apply_rotary(q, k, cos, sin), lambda q, k: ops_llm.apply_rotary(q, k, cos, sin),
                      [randn(gen, 2, 9, 3, 16), randn(gen, 2, 9, 1, 16)]))
        cases.append((L.swiglu, ops_llm.swiglu, [randn(gen, 6, 33), randn(gen, 6, 33)]))
        cases.append((L.swiglu_matmul, ops_llm.swiglu_matmul,
                      [randn(gen, 2, 5, 24), randn(gen, 24, 40, scale=0.2), randn(gen, 24, 40, scale=0.2)]))
        cases.append((lambda q, k, v: L.flash_attention(q, k, v, True),
                      lambda q, k, v: ops_attn.flash_attention(q, k, v, True),
                      [randn(gen, 1, 2, 19, 24) for _ in range(3)]))
        for fn, eager, args in cases:
            outs, gs = grads(fn, args)
            outs_e, gs_e = grads(eager, args)
            for got, want in zip(outs + gs, outs_e + gs_e):
                torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
        g = randn(gen, 20, 12)
        torch.testing.assert_close(L.newton_schulz(g), ops_muon.newton_schulz(g), rtol=1e-6, atol=1e-6)
    assert hasattr(torch.ops.mini_triton, "flash_attn_fwd") and hasattr(torch.ops.mini_triton, "rope")


@needs_custom_op
def test_custom_ops_gradcheck_fp64(gen):
    x = randn(gen, 3, 6, dtype=torch.float64).requires_grad_(True)
    w = randn(gen, 6, dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: L.rms_norm(a, b, 1e-6), (x, w), eps=1e-6, atol=1e-7)
    q, k, v = (randn(gen, 1, 1, 5, 8, dtype=torch.float64).requires_grad_(True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda q, k, v: L.flash_attention(q, k, v, True), (q, k, v), eps=1e-6,
                                    atol=1e-7)


def _opcheck_cases(gen):
    ops = torch.ops.mini_triton

    def r(*s, grad=True):
        return randn(gen, *s).requires_grad_(grad)

    cos, sin = ops_llm.rope_tables(16, 8)
    return {"rms_norm_fwd": (ops.rms_norm_fwd.default, (r(4, 16), r(16), 1e-6)),
            "rope": (ops.rope.default, (r(2, 8, 3, 16), r(2, 8, 1, 16), cos, sin, False)),
            "swiglu_fwd": (ops.swiglu_fwd.default, (r(5, 7), r(5, 7))),
            "swiglu_matmul_fwd": (ops.swiglu_matmul_fwd.default, (r(5, 16), r(16, 8), r(16, 8))),
            "flash_attn_fwd": (ops.flash_attn_fwd.default, (r(1, 2, 9, 16), r(1, 2, 9, 16), r(1, 2, 9, 16), True,
                                                            0.25)),
            "newton_schulz": (ops.newton_schulz.default, (r(12, 20, grad=False), 5))}


@needs_custom_op
@pytest.mark.parametrize("name", ["rms_norm_fwd", "rope", "swiglu_fwd", "swiglu_matmul_fwd", "flash_attn_fwd",
                                  "newton_schulz"])
def test_opcheck(gen, name):
    """torch.library.opcheck: schema, autograd registration, fake tensors (what torch.compile traces with) and
    AOT dispatch with dynamic shapes."""
    if not hasattr(torch.library, "opcheck"):
        pytest.skip("torch.library.opcheck unavailable")
    op, args = _opcheck_cases(gen)[name]
    torch.library.opcheck(op, args)


class _Tiny(torch.nn.Module):
    def __init__(self, d=32, heads=2):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.heads = heads
        self.w = torch.nn.Parameter(torch.ones(d))
        self.qkv = torch.nn.Parameter(torch.randn(d, 3 * d, generator=g) * d ** -0.5)
        self.w1 = torch.nn.Parameter(torch.randn(d, 2 * d, generator=g) * d ** -0.5)
        self.w3 = torch.nn.Parameter(torch.randn(d, 2 * d, generator=g) * d ** -0.5)
        cos, sin = ops_llm.rope_tables(d // heads, 16)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)

    def forward(self, x):
        B, S, D = x.shape
        h = L.rms_norm(x, self.w)
        q, k, v = (h @ self.qkv).reshape(B, S, 3, self.heads, D // self.heads).unbind(2)
        q, k = L.apply_rotary(q, k, self.cos, self.sin)
        o = L.flash_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), True)
        x = x + o.transpose(1, 2).reshape(B, S, D)
        return L.swiglu_matmul(x, self.w1, self.w3).sum(-1)


@needs_custom_op
def test_torch_compile_calls_the_custom_ops(gen):
    """torch.compile(fullgraph=True) traces the module into one graph holding our custom ops (opaque calls), and
    forward + backward match eager. backend="aot_eager" (AOT autograd without inductor's C++ code generation,
    which needs minutes of compilation on a small CPU)."""
    torch._dynamo.reset()
    model = _Tiny()
    x = randn(gen, 2, 12, 32)
    (y_e,), (g_e,) = grads(model, [x])
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    (y_c,), (g_c,) = grads(compiled, [x])
    torch.testing.assert_close(y_c, y_e, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g_c, g_e, rtol=1e-5, atol=1e-5)
    assert model.w.grad is not None

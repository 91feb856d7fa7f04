"""GPU: the LLM ops (mini_triton.ops.library, i.e. the custom ops) on torch CUDA tensors through the CUDA backend,
against float64 references; kernel selection timed with CUDA events; a training step of both LMs. Marked gpu
(skipped without one). Any fallback warning is an error here: the kernels themselves must run."""

import warnings

import pytest

torch = pytest.importorskip("torch")

from mini_triton.ops import library as L  # noqa: E402
from mini_triton.ops import llm as ops_llm  # noqa: E402
from mini_triton.ops import muon as ops_muon  # noqa: E402
from mini_triton.ops import select  # noqa: E402

pytestmark = pytest.mark.gpu

TOL = {torch.float32: 2e-4, torch.bfloat16: 2e-2}  # max abs error / max abs of the reference


def close(got, want, dtype):
    got, want = got.detach().double().cpu(), want.detach()
    err = float((got - want).abs().max() / want.abs().max().clamp_min(1e-12))
    assert err < TOL[dtype], f"relative error {err:.3g} > {TOL[dtype]}"


@pytest.fixture(autouse=True)
def no_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def rand(*shape, dtype=torch.float32, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed + sum(shape))
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to("cuda", dtype)


def check(fn, ref, args, dtype):
    """fn on the CUDA args vs ref on float64 CPU copies, outputs and gradients."""
    ins = [a.detach().clone().requires_grad_(a.is_floating_point()) for a in args]
    ref_ins = [a.detach().double().cpu().requires_grad_(a.is_floating_point()) for a in args]
    out, out_ref = fn(*ins), ref(*ref_ins)
    outs = out if isinstance(out, tuple) else (out,)
    outs_ref = out_ref if isinstance(out_ref, tuple) else (out_ref,)
    gs = [rand(*o.shape, seed=7) for o in outs]
    torch.autograd.backward(list(outs), [g.to(o.dtype) for g, o in zip(gs, outs)])
    torch.autograd.backward(list(outs_ref), [g.double().cpu() for g in gs])
    for o, r in zip(outs, outs_ref):
        assert o.is_cuda and o.dtype == dtype
        close(o, r, dtype)
    for a, r in zip(ins, ref_ins):
        if a.grad is not None:
            close(a.grad, r.grad, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_ops_on_cuda(dtype):
    w = rand(384, scale=0.1) + 1.0
    check(lambda x, w: L.rms_norm(x, w), lambda x, w: ops_llm.rms_norm_ref(x, w), [rand(4, 33, 384, dtype=dtype), w],
          dtype)
    # 3001 rows: several rows per backward program (4 per SM), the last range short
    check(lambda x, w: L.rms_norm(x, w), lambda x, w: ops_llm.rms_norm_ref(x, w), [rand(3001, 384, dtype=dtype), w],
          dtype)
    cos, sin = (t.cuda() for t in ops_llm.rope_tables(48, 64))
    c64, s64 = ops_llm.rope_tables(48, 64, dtype=torch.float64)
    check(lambda q, k: L.apply_rotary(q, k, cos, sin),
          lambda q, k: (ops_llm.apply_rotary_ref(q, c64, s64), ops_llm.apply_rotary_ref(k, c64, s64)),
          [rand(2, 50, 8, 48, dtype=dtype), rand(2, 50, 2, 48, dtype=dtype)], dtype)
    check(L.swiglu_matmul, L.swiglu_matmul_torch,
          [rand(70, 384, dtype=dtype), rand(384, 200, dtype=dtype, scale=0.05),
           rand(384, 200, dtype=dtype, scale=0.05)], dtype)
    check(L.swiglu, L.swiglu_torch, [rand(3, 1000, dtype=dtype), rand(3, 1000, dtype=dtype)], dtype)
    check(lambda q, k, v: L.flash_attention(q, k, v, True),
          lambda q, k, v: torch.softmax((q @ k.transpose(-1, -2) / 48 ** 0.5).masked_fill(
              ~torch.ones(q.shape[-2], q.shape[-2], dtype=torch.bool).tril(), float("-inf")), -1) @ v,
          [rand(2, 4, 77, 48, dtype=dtype) for _ in range(3)], dtype)


def test_newton_schulz_and_muon_on_cuda():
    g = rand(384, 1536)
    torch.testing.assert_close(L.newton_schulz(g).double().cpu(), ops_muon.newton_schulz_ref(g.double().cpu()),
                               rtol=1e-3, atol=1e-3)
    p = torch.nn.Parameter(rand(64, 48))
    p.grad = rand(64, 48, seed=3)
    ref = p.detach().double().cpu().clone()
    opt = ops_muon.Muon([p], lr=0.02, orthogonalize=L.newton_schulz)
    opt.step()
    ops_muon.muon_reference_step(ref, p.grad.double().cpu(), torch.zeros_like(ref), 0.02)
    torch.testing.assert_close(p.detach().double().cpu(), ref, rtol=1e-4, atol=1e-5)


def test_selection_on_cuda_uses_events_and_caches():
    select.clear_benchmark_cache()
    cfg = select.ModelConfig()
    sel = select.auto_select_kernels(cfg, budget_ms=20.0)
    assert set(sel["results"]) == set(select.KERNEL_FLAGS)
    for flag, r in sel["results"].items():
        assert r["device"].startswith("cuda") and "error" not in r, (flag, r)
        assert r["pytorch_time"] > 0 and r["triton_time"] > 0 and sel[flag] == r["use_triton"]
    assert select.benchmark_rms_norm(16, 256, 384, dtype=torch.bfloat16) is not None
    assert len(select._CACHE) == 5


@pytest.mark.parametrize("kind", ["transformer", "mingru"])
def test_training_step_on_cuda_matches_pytorch(kind):
    from mini_triton.ops.model import build_model, make_optimizer
    tokens = torch.randint(0, 256, (4, 65), generator=torch.Generator().manual_seed(0)).cuda()
    losses = []
    for use in (True, False):
        cfg = select.ModelConfig(vocab_size=256, d_model=128, n_heads=4, n_layers=2, d_ff=256, max_seq_len=64)
        cfg.set_all_kernels(use)
        torch.manual_seed(0)
        model = build_model(kind, cfg).cuda()
        opt = make_optimizer(model, cfg)
        run = []
        for _ in range(3):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = model.loss(tokens[:, :-1], tokens[:, 1:])
            loss.backward()
            opt.step()
            opt.zero_grad()
            run.append(loss.item())
        losses.append(run)
    ours, ref = losses
    for a, b in zip(ours, ref):
        assert abs(a - b) / b < 0.02, (ours, ref)

"""The library's matmul-shaped kernels (Newton-Schulz gram / matmul-epilogue, the fused SwiGLU matmul, flash
attention fwd + bwd) with 16-bit tl.dot operands (DOT = the storage dtype, f32 accumulation), run on the CPU
interpreter with every tensor-core configuration the ops use on a GPU (mini_triton.ops._tc): shapes that are not
multiples of the tiles, outputs poisoned with NaN, float64 references. Also: 16-bit inputs give 16-bit dot operands
in the IR while float32 keeps an IEEE dot, and the CUDA emitter puts those dots on the tensor cores with cp.async
pipelining (tools/mt-cuda; one kernel compiled with NVRTC for sm_90a where NVRTC is installed)."""

import os
import re
import subprocess

import pytest

torch = pytest.importorskip("torch")

import mini_triton as triton  # noqa: E402
import mini_triton.language as tl  # noqa: E402
from mini_triton.kernels import attention as K_attn  # noqa: E402
from mini_triton.kernels import llm as K_llm  # noqa: E402
from mini_triton.kernels import newton_schulz as K_ns  # noqa: E402
from mini_triton.ops import _tc  # noqa: E402
from mini_triton.ops import attention as ops_attn  # noqa: E402
from mini_triton.ops import llm as ops_llm  # noqa: E402
from mini_triton.ops import muon as ops_muon  # noqa: E402

DOT = {torch.bfloat16: tl.bfloat16, torch.float16: tl.float16}


def rand(gen, *shape, dtype=torch.bfloat16, scale=1.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)


def rel_err(got, want):
    got, want = got.detach().double(), want.detach()
    assert torch.isfinite(got).all(), "NaN / inf in the output (an element was not written?)"
    return float((got - want).abs().max() / want.abs().max())


def poisoned(shape, dtype):
    return torch.full(shape, float("nan"), dtype=dtype)


def cfg_id(c):
    return "_".join(f"{v}" for v in c.kwargs.values()) + f"_w{c.num_warps}"


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


# ------------------------------------------------------------------------------------------------ Newton-Schulz
@pytest.mark.parametrize("cfg", _tc.MATMUL_CONFIGS, ids=cfg_id)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_matmul_epilogue_tensor_core_configs(gen, cfg, dtype):
    M, N, K = 131, 70, 100  # no tile divides them; two row tiles of 128
    p, q, r = rand(gen, M, K, dtype=dtype), rand(gen, K, N, dtype=dtype), rand(gen, M, N, dtype=dtype)
    out = poisoned((M, N), dtype)
    bm, bn = cfg.kwargs["BLOCK_M"], cfg.kwargs["BLOCK_N"]
    K_ns.matmul_epilogue_kernel[(triton.cdiv(M, bm), triton.cdiv(N, bn))](
        p, q, r, out, M, N, K, p.stride(0), p.stride(1), q.stride(0), q.stride(1), r.stride(0), r.stride(1),
        out.stride(0), out.stride(1), ALPHA=2.0315, BETA=-4.775, ACC=tl.float32, DOT=DOT[dtype],
        **cfg.all_kwargs())
    want = 2.0315 * (p.double() @ q.double()) - 4.775 * r.double()
    assert rel_err(out, want) < 1e-2


@pytest.mark.parametrize("cfg", _tc.GRAM_CONFIGS, ids=cfg_id)
def test_gram_tensor_core_configs(gen, cfg):
    M, K = 150, 83  # two tile rows at 128: the mirrored lower tile is written by program (0, 1)
    x = rand(gen, M, K)
    a = poisoned((M, M), torch.bfloat16)
    t = triton.cdiv(M, cfg.kwargs["BLOCK_M"])
    K_ns.gram_kernel[(t, t)](x, a, M, K, x.stride(0), x.stride(1), a.stride(0), a.stride(1), ACC=tl.float32,
                             DOT=tl.bfloat16, **cfg.all_kwargs())
    assert rel_err(a, x.double() @ x.double().t()) < 1e-2
    assert torch.equal(a, a.t())


@pytest.mark.parametrize("shape", [(70, 45), (33, 96)])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_newton_schulz_16bit(gen, shape, dtype):
    g = rand(gen, *shape, dtype=dtype)
    o = ops_muon.newton_schulz(g)
    assert o.dtype == dtype and o.shape == g.shape
    want = ops_muon.newton_schulz_ref(g.double())
    err = float((o.double() - want).norm() / want.norm())
    assert err < (3e-2 if dtype == torch.bfloat16 else 5e-3), err


# ---------------------------------------------------------------------------------------------------- SwiGLU
def swiglu_ref(x, w1, w3):
    a, b = x.double() @ w1.double(), x.double() @ w3.double()
    return a, b, torch.nn.functional.silu(a) * b


@pytest.mark.parametrize("cfg", _tc.SWIGLU_CONFIGS, ids=cfg_id)
def test_swiglu_matmul_tensor_core_configs(gen, cfg):
    M, N, K = 137, 75, 90
    x, w1, w3 = rand(gen, M, K), rand(gen, K, N, scale=0.2), rand(gen, K, N, scale=0.2)
    a, b, h = (poisoned((M, N), torch.bfloat16) for _ in range(3))
    bm, bn = cfg.kwargs["BLOCK_M"], cfg.kwargs["BLOCK_N"]
    K_llm.swiglu_matmul_kernel[(triton.cdiv(M, bm), triton.cdiv(N, bn))](
        x, w1, w3, a, b, h, M, N, K, x.stride(0), x.stride(1), w1.stride(0), w1.stride(1), w3.stride(0),
        w3.stride(1), h.stride(0), h.stride(1), STORE_AB=True, ACC=tl.float32, DOT=tl.bfloat16, **cfg.all_kwargs())
    for got, want in zip((a, b, h), swiglu_ref(x, w1, w3)):
        assert rel_err(got, want) < 1e-2


def test_swiglu_matmul_op_16bit_and_mixed(gen):
    x, w1, w3 = rand(gen, 3, 11, 40), rand(gen, 40, 52, scale=0.3), rand(gen, 40, 52, scale=0.3)
    h = ops_llm.swiglu_matmul(x, w1, w3)
    assert h.dtype == torch.bfloat16
    assert rel_err(h, swiglu_ref(x.reshape(-1, 40), w1, w3)[2].reshape(3, 11, 52)) < 1e-2
    # mixed dtypes: the dots take the float32 accumulator dtype
    h32 = ops_llm.swiglu_matmul(x, w1.float(), w3.float())
    assert rel_err(h32, swiglu_ref(x.reshape(-1, 40), w1, w3)[2].reshape(3, 11, 52)) < 1e-2


# ------------------------------------------------------------------------------------------------- attention
def attn_grads(fn, q, k, v, do):
    q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    o = fn(q, k, v)
    return (o, *torch.autograd.grad(o, (q, k, v), do))


@pytest.mark.parametrize("cfg", ops_attn.FWD_CONFIGS, ids=cfg_id)
@pytest.mark.parametrize("causal", [True, False])
def test_attention_gpu_tiles_on_cpu(gen, monkeypatch, cfg, causal):
    """The ops' GPU path (16-bit, tensor-core tiles: forward with `cfg`, backward 64 x 64) on the interpreter:
    S = 141 spans two 128-row blocks with a tail; head dim 48 is padded to 64."""
    monkeypatch.setattr(_tc, "tensor_cores", lambda t, dot, acc: dot is not acc)
    monkeypatch.setattr(ops_attn, "FWD_CONFIGS", [cfg])  # one config: launched without benchmarking
    shape = (1, 2, 141, 48)
    q, k, v, do = (rand(gen, *shape) for _ in range(4))
    fn = lambda a, b, c: ops_attn.flash_attention(a, b, c, causal=causal)  # noqa: E731
    ref = lambda a, b, c: ops_attn.attention_ref(a, b, c, causal=causal)  # noqa: E731
    got = attn_grads(fn, q, k, v, do)
    want = attn_grads(ref, q.double(), k.double(), v.double(), do.double())
    assert got[0].dtype == torch.bfloat16
    for g, w, tol in zip(got, want, (1e-2, 2e-2, 2e-2, 2e-2)):
        assert rel_err(g, w) < tol


def test_ops_pick_tensor_core_configs_on_gpu_only(gen, monkeypatch):
    """On a CUDA tensor the ops launch the autotuned kernels; a fake device check routes the CPU tensors there
    (one config each, so nothing is benchmarked) and the results still match."""
    monkeypatch.setattr(_tc, "tensor_cores", lambda t, dot, acc: dot is not acc)
    for name in ("MATMUL_CONFIGS", "SWIGLU_CONFIGS", "GRAM_CONFIGS"):
        monkeypatch.setattr(_tc, name, getattr(_tc, name)[:1])
    g = rand(gen, 40, 70)
    o = ops_muon.newton_schulz(g)
    want = ops_muon.newton_schulz_ref(g.double())
    assert float((o.double() - want).norm() / want.norm()) < 3e-2
    x, w1, w3 = rand(gen, 21, 40), rand(gen, 40, 52, scale=0.3), rand(gen, 40, 52, scale=0.3)
    assert rel_err(ops_llm.swiglu_matmul(x, w1, w3), swiglu_ref(x, w1, w3)[2]) < 1e-2
    # tiny shapes on the big tiles: one row, K below one BLOCK_K step, S = 3
    x, w1, w3 = rand(gen, 1, 3), rand(gen, 3, 5), rand(gen, 3, 5)
    assert rel_err(ops_llm.swiglu_matmul(x, w1, w3), swiglu_ref(x, w1, w3)[2]) < 1e-2
    g = rand(gen, 2, 9)
    o = ops_muon.newton_schulz(g)
    want = ops_muon.newton_schulz_ref(g.double())
    assert float((o.double() - want).norm() / want.norm()) < 3e-2
    monkeypatch.setattr(ops_attn, "FWD_CONFIGS", ops_attn.FWD_CONFIGS[:1])
    q, k, v, do = (rand(gen, 1, 2, 3, 20) for _ in range(4))
    got = attn_grads(ops_attn.flash_attention, q, k, v, do)
    want = attn_grads(ops_attn.attention_ref, q.double(), k.double(), v.double(), do.double())
    for a, b in zip(got, want):
        assert rel_err(a, b) < 2e-2
    tuned = [k for k in _tc._TUNED.values() if k.best_config is not None]
    assert {t.base_fn.__name__ for t in tuned} >= {"gram_kernel", "matmul_epilogue_kernel", "swiglu_matmul_kernel"}
    assert all(t.best_config.kwargs["BLOCK_M"] >= 64 for t in tuned)


def test_prune_for_shape():
    small = _tc.prune_for_shape(_tc.MATMUL_CONFIGS, 40, 30)
    assert [(c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"]) for c in small] == [(64, 64)]
    assert _tc.prune_for_shape(_tc.MATMUL_CONFIGS, 4096, 4096) == _tc.MATMUL_CONFIGS
    assert _tc.dot_dtype(tl.float32, torch.empty(1, dtype=torch.bfloat16)) == tl.bfloat16
    assert _tc.dot_dtype(tl.float32, torch.empty(1, dtype=torch.bfloat16), torch.empty(1)) == tl.float32
    assert _tc.dot_dtype(tl.float64, torch.empty(1, dtype=torch.float64)) == tl.float64
    assert not _tc.tensor_cores(torch.empty(1, dtype=torch.bfloat16), tl.bfloat16, tl.float32)  # a CPU tensor


# ------------------------------------------------------------------------------------------ IR and CUDA checks
def _dot_operand_types(ir: str):
    """[(lhs type, rhs type, attrs)] of every dot in a printed function (operand types from their definitions;
    a trans's type is its operand's transposed)."""
    defs = {m.group(1): m.group(2) for m in re.finditer(r"^\s*(%\w+) = .* : (\S+)$", ir, re.M)}
    out = []
    for m in re.finditer(r"= dot (%\w+), (%\w+), %\w+( \{[^}]*\})?", ir):
        out.append((defs.get(m.group(1)), defs.get(m.group(2)), m.group(3) or ""))
    return out


def _irs(kernel):
    return [entry[0].ir for entry in kernel.cache.values() if not entry[2]]


def _run_ops(gen, dtype):
    ops_muon.newton_schulz(rand(gen, 40, 70, dtype=dtype), steps=1)
    ops_llm.swiglu_matmul(rand(gen, 21, 40, dtype=dtype), rand(gen, 40, 52, dtype=dtype),
                          rand(gen, 40, 52, dtype=dtype))
    q = rand(gen, 1, 1, 37, 48, dtype=dtype).requires_grad_(True)
    ops_attn.flash_attention(q, q, q).sum().backward()


KERNELS = [K_ns.gram_kernel, K_ns.matmul_epilogue_kernel, K_llm.swiglu_matmul_kernel, K_attn.attn_fwd_kernel,
           K_attn.attn_bwd_dkdv_kernel, K_attn.attn_bwd_dq_kernel]


def test_dot_operands_follow_the_input_dtype(gen):
    _run_ops(gen, torch.bfloat16)
    _run_ops(gen, torch.float32)
    for kernel in KERNELS:
        dots = [d for ir in _irs(kernel) for d in _dot_operand_types(ir)]
        bf16 = [d for d in dots if d[0] and d[0].endswith("xbf16>")]
        f32 = [d for d in dots if d[0] and d[0].endswith("xf32>")]
        assert bf16 and f32, f"{kernel.__name__}: {dots}"
        assert all(d[1].endswith("xbf16>") and "input_precision" not in d[2] for d in bf16), kernel.__name__
        assert all(d[1].endswith("xf32>") and '"ieee"' in d[2] for d in f32), kernel.__name__


def _mt_cuda():
    build = os.environ.get("MINI_TRITON_BUILD_DIR")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for root in ([os.path.dirname(build.rstrip("/"))] if build else []) + [os.path.join(repo, "build")]:
        path = os.path.join(root, "tools", "mt-cuda", "mt-cuda")
        if os.access(path, os.X_OK):
            return path
    return None


# (kernel, config kwargs, num_warps, dots on tensor cores at least, pipelined loops)
CUDA_CASES = [
    (K_ns.matmul_epilogue_kernel, dict(BLOCK_M=128, BLOCK_N=128, BLOCK_K=64), 8, 1),
    (K_ns.gram_kernel, dict(BLOCK_M=128, BLOCK_K=64), 8, 1),
    (K_llm.swiglu_matmul_kernel, dict(BLOCK_M=128, BLOCK_N=128, BLOCK_K=32), 8, 2),
    (K_attn.attn_fwd_kernel, dict(BLOCK_M=128, BLOCK_N=64), 8, 2),
    (K_attn.attn_bwd_dkdv_kernel, dict(BLOCK_M=64, BLOCK_N=64), 4, 4),
    (K_attn.attn_bwd_dq_kernel, dict(BLOCK_M=64, BLOCK_N=64), 4, 3),
]


def _bf16_gpu_tile_irs(gen, monkeypatch):
    """Compiles (on the CPU) the bf16 specialisations with the GPU tiles, via the ops' GPU path."""
    monkeypatch.setattr(_tc, "tensor_cores", lambda t, dot, acc: dot is not acc)
    for name in ("MATMUL_CONFIGS", "SWIGLU_CONFIGS", "GRAM_CONFIGS"):
        monkeypatch.setattr(_tc, name, getattr(_tc, name)[:1])
    monkeypatch.setattr(ops_attn, "FWD_CONFIGS", ops_attn.FWD_CONFIGS[:1])
    ops_muon.newton_schulz(rand(gen, 130, 200), steps=1)
    ops_llm.swiglu_matmul(rand(gen, 130, 64), rand(gen, 64, 130), rand(gen, 64, 130))
    q = rand(gen, 1, 1, 130, 64).requires_grad_(True)
    ops_attn.flash_attention(q, q, q).sum().backward()


def test_cuda_emission_uses_tensor_cores_and_cp_async(gen, monkeypatch, tmp_path):
    tool = _mt_cuda()
    if tool is None:
        pytest.skip("tools/mt-cuda is not built")
    _bf16_gpu_tile_irs(gen, monkeypatch)
    first = None
    for kernel, tile, warps, dots in CUDA_CASES:
        chosen = None
        for key, entry in kernel.cache.items():
            spec = dict(zip(kernel.arg_names, key[2:]))  # key: (num_warps, num_stages, one item per parameter)
            if entry[2] or spec[kernel.arg_names[0]][:2] != ("p", "bf16") or key[0] != warps:
                continue
            if all(spec[name][1] == value for name, value in tile.items()):
                chosen = entry[0].ir
        assert chosen is not None, f"{kernel.__name__}: no bf16 specialisation with {tile}"
        path = tmp_path / f"{kernel.__name__}.mtir"
        path.write_text(chosen)
        proc = subprocess.run([tool, str(path), "--num-warps", str(warps), "--num-stages", "3"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{kernel.__name__}: {proc.stderr[-2000:]}"
        src = proc.stdout
        assert len(re.findall(r"// dot \d+x\d+x\d+ bf16 on tensor cores", src)) >= dots, kernel.__name__
        assert "stages of cp.async" in src and "mt::cpAsync" in src, f"{kernel.__name__}: not pipelined"
        first = first or path
        (tmp_path / f"{kernel.__name__}.cu").write_text(src)
    proc = subprocess.run([tool, str(first), "--num-warps", "8", "--num-stages", "3", "--compile", "--arch",
                           "sm_90a"], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "nvrtc" in (proc.stdout + proc.stderr).lower():
        pytest.skip(f"NVRTC unavailable: {(proc.stdout + proc.stderr).strip()[-300:]}")
    assert proc.returncode == 0 and proc.stdout.startswith("ok:"), proc.stdout + proc.stderr


# ------------------------------------------------------------------------------------------------------ GPU
@pytest.mark.gpu
def test_tensor_core_ops_on_cuda(gen):
    """bf16 ops on CUDA tensors take the autotuned tensor-core kernels; shapes off the tiles, float64 references."""
    def cuda(t):
        return t.cuda()
    x, w1, w3 = rand(gen, 300, 520), rand(gen, 520, 333, scale=0.05), rand(gen, 520, 333, scale=0.05)
    h = ops_llm.swiglu_matmul(cuda(x), cuda(w1), cuda(w3))
    assert rel_err(h.cpu(), swiglu_ref(x, w1, w3)[2]) < 1e-2
    g = rand(gen, 300, 700)
    o = ops_muon.newton_schulz(cuda(g)).cpu()
    want = ops_muon.newton_schulz_ref(g.double())
    assert float((o.double() - want).norm() / want.norm()) < 3e-2
    for causal in (True, False):
        q, k, v, do = (rand(gen, 2, 3, 300, 64) for _ in range(4))
        got = attn_grads(lambda a, b, c: ops_attn.flash_attention(a, b, c, causal=causal), cuda(q), cuda(k),
                         cuda(v), cuda(do))
        want = attn_grads(lambda a, b, c: ops_attn.attention_ref(a, b, c, causal=causal), q.double(), k.double(),
                          v.double(), do.double())
        for a, b, tol in zip(got, want, (1e-2, 2e-2, 2e-2, 2e-2)):
            assert rel_err(a.cpu(), b) < tol
    names = {t.base_fn.__name__ if hasattr(t, "base_fn") else t.fn.__name__: t.best_config
             for t in _tc._TUNED.values() if getattr(t, "best_config", None) is not None}
    assert {"swiglu_matmul_kernel", "gram_kernel", "matmul_epilogue_kernel", "attn_fwd_kernel"} <= set(names)
    print({n: str(c) for n, c in names.items()})

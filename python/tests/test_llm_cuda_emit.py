"""Every specialisation of the LLM kernels that the ops compile (RMSNorm, RoPE, SwiGLU, flash attention,
Newton-Schulz; float32 and bfloat16, odd shapes, head dim 48) lowers to CUDA C++ through tools/mt-cuda, and one
of them compiles with NVRTC for sm_90a where NVRTC is installed: a GPU-free check of the CUDA path. Skipped when
the mt-cuda tool is not built (cmake --build build --target mt-cuda)."""

import os
import subprocess

import pytest

torch = pytest.importorskip("torch")

from mini_triton.kernels import attention as K_attn  # noqa: E402
from mini_triton.kernels import llm as K_llm  # noqa: E402
from mini_triton.kernels import newton_schulz as K_ns  # noqa: E402
from mini_triton.ops import library as L  # noqa: E402
from mini_triton.ops import llm as ops_llm  # noqa: E402


def _mt_cuda():
    build = os.environ.get("MINI_TRITON_BUILD_DIR")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for root in ([os.path.dirname(build.rstrip("/"))] if build else []) + [os.path.join(repo, "build")]:
        path = os.path.join(root, "tools", "mt-cuda", "mt-cuda")
        if os.access(path, os.X_OK):
            return path
    return None


def _exercise():
    g = torch.Generator().manual_seed(0)
    for dt in (torch.float32, torch.bfloat16):
        def r(*s):
            return torch.randn(*s, generator=g).to(dt).requires_grad_(True)
        L.rms_norm(r(3, 5, 48), torch.ones(48, requires_grad=True)).sum().backward()
        cos, sin = ops_llm.rope_tables(48, 8)
        q, k = L.apply_rotary(r(2, 8, 4, 48), r(2, 8, 2, 48), cos, sin)
        (q.sum() + k.sum()).backward()
        x, w = r(20, 48), r(48, 64)
        L.swiglu_matmul(x, w, w).sum().backward()
        L.swiglu(x, x).sum().backward()
        q = r(1, 2, 40, 48)
        L.flash_attention(q, q, q).sum().backward()
    L.newton_schulz(torch.randn(48, 96, generator=g))


def test_llm_kernels_emit_cuda(tmp_path):
    tool = _mt_cuda()
    if tool is None:
        pytest.skip("tools/mt-cuda is not built")
    _exercise()
    irs = []
    for mod in (K_llm, K_attn, K_ns):
        for name in dir(mod):
            cache = getattr(getattr(mod, name), "cache", None)
            if isinstance(cache, dict):
                irs += [(name, entry[0].ir) for entry in cache.values() if not entry[2]]
    names = {n for n, _ in irs}
    assert {"rmsnorm_fwd_kernel", "rmsnorm_bwd_kernel", "sum_rows_kernel", "rope_kernel", "swiglu_fwd_kernel",
            "swiglu_bwd_kernel", "swiglu_matmul_kernel", "attn_fwd_kernel", "attn_bwd_preprocess_kernel",
            "attn_bwd_dkdv_kernel", "attn_bwd_dq_kernel", "gram_kernel", "matmul_epilogue_kernel"} <= names
    for i, (name, ir) in enumerate(irs):
        path = tmp_path / f"{name}_{i}.mtir"
        path.write_text(ir)
        proc = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{name}: {proc.stderr[-2000:]}"
        assert "void __launch_bounds__" in proc.stdout and name in proc.stdout
    attn = next(tmp_path.glob("attn_fwd_kernel_*.mtir"))
    proc = subprocess.run([tool, str(attn), "--compile", "--arch", "sm_90a"], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0 and "nvrtc" in (proc.stdout + proc.stderr).lower():
        pytest.skip(f"NVRTC unavailable: {(proc.stdout + proc.stderr).strip()[-300:]}")
    assert proc.returncode == 0 and proc.stdout.startswith("ok:"), proc.stdout + proc.stderr

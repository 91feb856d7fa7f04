"""Model configuration and automatic kernel selection: each LLM op is timed against its PyTorch version at the
model's shapes, and the faster one is used.

    from mini_triton.ops.select import ModelConfig, auto_select_kernels, benchmark_rms_norm

    config = ModelConfig(d_model=384, n_heads=8, n_layers=6, d_ff=1536, max_seq_len=256)
    selection = auto_select_kernels(config)   # {"use_triton_rmsnorm": True, ...}; also written into config
    r = benchmark_rms_norm(batch_size=16, seq_len=256, d_model=384)
    r["pytorch_time"], r["triton_time"], r["speedup"], r["use_triton"]      # ms, ms, pytorch/triton, bool

Timing: CUDA events on a GPU (perf_counter on the CPU), a warm-up call, then the median of repeated calls
within a time budget; forward + backward where the op has one (`backward=True`). The "triton" side is our kernel
(mini_triton, the CPU interpreter or the CUDA backend), run under library.strict(): a kernel that raises, or
gives a result that differs from PyTorch beyond the dtype's tolerance, is reported with `error`, a warning,
and use_triton=False. Results are cached per (op, shapes, dtype, device, backward) for the process
(`clear_benchmark_cache()`); decisions are logged on the "mini_triton.ops" logger.

Every benchmark returns {pytorch_time, triton_time, speedup, use_triton} plus op, shape, dtype, device and
(when the kernel failed) error. Times in milliseconds; triton_time is None when the kernel failed.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import statistics
import time
import warnings
from dataclasses import dataclass
from typing import Optional

import torch

from mini_triton.ops import library as L

__all__ = ["ModelConfig", "auto_select_kernels", "benchmark_rms_norm", "benchmark_rotary", "benchmark_mlp",
           "benchmark_attention", "benchmark_newton_schulz", "clear_benchmark_cache", "KERNEL_FLAGS"]

log = logging.getLogger("mini_triton.ops")

KERNEL_FLAGS = ("use_triton_rmsnorm", "use_triton_rotary", "use_triton_mlp", "use_triton_attention",
                "use_triton_newton_schulz")


@dataclass
class ModelConfig:
    """A small LLaMA-style transformer (the seed's defaults) and which of our kernels it uses.

    The use_triton_* flags say which ops may use our kernels; with benchmark_kernels, auto_select_kernels()
    keeps a flag only where the kernel is faster than PyTorch at the model's shapes."""
    # architecture
    d_model: int = 384
    n_heads: int = 8
    n_layers: int = 6
    d_ff: int = 1536
    vocab_size: Optional[int] = None  # set from the tokenizer (256 for bytes)
    max_seq_len: int = 256
    rope_base: float = 10000.0
    norm_eps: float = 1e-6
    dropout: float = 0.0
    fused_mlp: bool = True  # SwiGLU: gate fused into the x @ W1 / x @ W3 kernel (else torch matmuls + gate kernel)
    # training
    batch_size: int = 16
    max_steps: int = 2000
    gradient_accumulation_steps: int = 1
    muon_lr: float = 0.02
    muon_momentum: float = 0.95
    adamw_lr: float = 3e-3
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    warmup_steps: int = 50
    eval_every: int = 100
    eval_steps: int = 8
    use_amp: bool = True  # bfloat16 autocast on a GPU (ignored on the CPU)
    device: Optional[str] = None  # None: "cuda" if available else "cpu"
    # kernels
    use_triton_rmsnorm: bool = True
    use_triton_rotary: bool = True
    use_triton_mlp: bool = True
    use_triton_attention: bool = True
    use_triton_newton_schulz: bool = True
    benchmark_kernels: bool = True

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        if (self.d_model // self.n_heads) % 2:
            raise ValueError(f"head dim {self.d_model // self.n_heads} must be even (RoPE)")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    def resolved_device(self) -> torch.device:
        if self.device is not None:
            return torch.device(self.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def kernel_flags(self) -> dict:
        return {name: getattr(self, name) for name in KERNEL_FLAGS}

    def set_all_kernels(self, on: bool) -> "ModelConfig":
        for name in KERNEL_FLAGS:
            setattr(self, name, on)
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------------------------------- timing
_CACHE: dict = {}


def clear_benchmark_cache() -> None:
    _CACHE.clear()


def _default_device(device):
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _time_ms(fn, device: torch.device, budget_ms: float, max_reps: int) -> float:
    """Median time of fn() in ms: one warm-up call (compiles), then up to max_reps calls within budget_ms."""
    fn()
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
    times = []
    spent = 0.0
    while len(times) < max_reps and (len(times) < 3 or spent < budget_ms):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            ms = start.elapsed_time(end)
        else:
            t0 = time.perf_counter()
            fn()
            ms = (time.perf_counter() - t0) * 1000.0
        times.append(ms)
        spent += ms
        if len(times) == 1 and ms > budget_ms:  # one slow call already spent the budget (CPU interpreter)
            break
    return statistics.median(times)


def _tolerance(dtype) -> float:
    return {torch.float64: 1e-9, torch.float32: 2e-3, torch.float16: 2e-2, torch.bfloat16: 6e-2}.get(dtype, 6e-2)


def _max_rel_err(got, want) -> float:
    got, want = got.detach().double(), want.detach().double()
    scale = want.abs().max().clamp_min(1e-6)
    return float((got - want).abs().max() / scale)


def _run(op: str, key: tuple, make, device, dtype, backward: bool, budget_ms: float, max_reps: int,
         verbose: bool, use_cache: bool):
    """make() -> (inputs, pytorch_fn, triton_fn); the fns take the inputs and return a tensor or a tuple."""
    key = (op, key, str(dtype), str(device), backward)
    if use_cache and key in _CACHE:
        return dict(_CACHE[key])
    inputs, torch_fn, triton_fn = make()
    grad_inputs = [t for t in inputs if isinstance(t, torch.Tensor) and t.is_floating_point()] if backward else []

    def step(fn):
        def go():
            for t in grad_inputs:
                t.grad = None
            out = fn(*inputs)
            outs = out if isinstance(out, tuple) else (out,)
            if backward:
                torch.autograd.backward(list(outs), [torch.ones_like(o) for o in outs])
            return outs
        return go

    if backward:
        for t in grad_inputs:
            t.requires_grad_(True)
    result = {"op": op, "shape": list(key[1]), "dtype": str(dtype).replace("torch.", ""), "device": str(device)}
    pytorch_ms = _time_ms(step(torch_fn), device, budget_ms, max_reps)
    ref = [o.detach().clone() for o in step(torch_fn)()]
    triton_ms, error = None, None
    try:
        with L.strict():
            got = step(triton_fn)()
            err = max(_max_rel_err(g, r) for g, r in zip(got, ref))
            if not math.isfinite(err) or err > _tolerance(dtype):
                raise RuntimeError(f"result differs from PyTorch (max relative error {err:.3g})")
            triton_ms = _time_ms(step(triton_fn), device, budget_ms, max_reps)
    except Exception as e:  # a failing kernel is a decision (use PyTorch), not an error for the caller
        error = f"{type(e).__name__}: {e}"
        msg = f"mini_triton: {op} kernel unusable at {list(key[1])} ({error}); using PyTorch"
        log.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
    speedup = pytorch_ms / triton_ms if triton_ms else 0.0
    result.update(pytorch_time=pytorch_ms, triton_time=triton_ms, speedup=speedup,
                  use_triton=triton_ms is not None and speedup > 1.0)
    if error:
        result["error"] = error
    (log.info if not verbose else log.warning)(
        "%s %s %s on %s: pytorch %.3f ms, mini_triton %s, speedup %.2fx -> %s", op, list(key[1]), result["dtype"],
        device, pytorch_ms, "failed" if triton_ms is None else f"{triton_ms:.3f} ms", speedup,
        "mini_triton" if result["use_triton"] else "pytorch")
    if verbose:
        print(f"{op}: pytorch {pytorch_ms:.3f} ms, mini_triton "
              f"{'failed' if triton_ms is None else f'{triton_ms:.3f} ms'}, speedup {speedup:.2f}x")
    _CACHE[key] = dict(result)
    return result


def _randn(shape, dtype, device, gen, scale=1.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float32) * scale).to(device=device, dtype=dtype)


def _opts(device, dtype):
    device = _default_device(device)
    if dtype is None:
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    return device, dtype, torch.Generator().manual_seed(0)


# ------------------------------------------------------------------------------------------------- benchmarks
def benchmark_rms_norm(batch_size: int = 16, seq_len: int = 256, d_model: int = 384, *, dtype=None, device=None,
                       backward: bool = True, eps: float = 1e-6, budget_ms: float = 100.0, max_reps: int = 100,
                       verbose: bool = False, use_cache: bool = True) -> dict:
    """RMSNorm of (batch_size, seq_len, d_model) activations with a (d_model,) weight."""
    device, dtype, gen = _opts(device, dtype)

    def make():
        x = _randn((batch_size, seq_len, d_model), dtype, device, gen)
        w = _randn((d_model,), torch.float32, device, gen, 0.1) + 1.0
        return [x, w], lambda a, b: L.rms_norm_torch(a, b, eps), lambda a, b: L.rms_norm(a, b, eps)

    return _run("rms_norm", (batch_size, seq_len, d_model), make, device, dtype, backward, budget_ms, max_reps,
                verbose, use_cache)


def benchmark_rotary(batch_size: int = 16, seq_len: int = 256, n_heads: int = 8, d_head: int = 48, *, dtype=None,
                     device=None, backward: bool = True, budget_ms: float = 100.0, max_reps: int = 100,
                     verbose: bool = False, use_cache: bool = True) -> dict:
    """RoPE of q and k, both (batch_size, seq_len, n_heads, d_head), in one launch."""
    device, dtype, gen = _opts(device, dtype)

    def make():
        from mini_triton.ops.llm import rope_tables
        q = _randn((batch_size, seq_len, n_heads, d_head), dtype, device, gen)
        k = _randn((batch_size, seq_len, n_heads, d_head), dtype, device, gen)
        cos, sin = (t.to(device) for t in rope_tables(d_head, seq_len))
        return ([q, k], lambda a, b: L.apply_rotary_torch(a, b, cos, sin),
                lambda a, b: L.apply_rotary(a, b, cos, sin))

    return _run("rotary", (batch_size, seq_len, n_heads, d_head), make, device, dtype, backward, budget_ms,
                max_reps, verbose, use_cache)


def benchmark_mlp(batch_size: int = 16, seq_len: int = 256, d_model: int = 384, d_ff: int = 1536, *, dtype=None,
                  device=None, fused: bool = True, backward: bool = True, budget_ms: float = 100.0,
                  max_reps: int = 100, verbose: bool = False, use_cache: bool = True) -> dict:
    """SwiGLU MLP (silu(x @ W1) * (x @ W3)) @ W2; fused: the gate in the matmul kernel's epilogue, else torch
    matmuls and our gate kernel."""
    device, dtype, gen = _opts(device, dtype)

    def make():
        x = _randn((batch_size, seq_len, d_model), dtype, device, gen)
        w1, w3 = (_randn((d_model, d_ff), dtype, device, gen, d_model ** -0.5) for _ in range(2))
        w2 = _randn((d_ff, d_model), dtype, device, gen, d_ff ** -0.5)

        def ours(x, w1, w3, w2):
            h = L.swiglu_matmul(x, w1, w3) if fused else L.swiglu(x @ w1, x @ w3)
            return h @ w2

        return [x, w1, w3, w2], lambda x, w1, w3, w2: L.swiglu_matmul_torch(x, w1, w3) @ w2, ours

    return _run("mlp" if fused else "mlp_gate", (batch_size, seq_len, d_model, d_ff), make, device, dtype,
                backward, budget_ms, max_reps, verbose, use_cache)


def benchmark_attention(batch_size: int = 16, seq_len: int = 256, n_heads: int = 8, d_head: int = 48, *,
                        dtype=None, device=None, causal: bool = True, backward: bool = True,
                        budget_ms: float = 100.0, max_reps: int = 100, verbose: bool = False,
                        use_cache: bool = True) -> dict:
    """Causal flash attention over (batch_size, n_heads, seq_len, d_head) q, k, v vs torch's
    scaled_dot_product_attention."""
    device, dtype, gen = _opts(device, dtype)

    def make():
        q, k, v = (_randn((batch_size, n_heads, seq_len, d_head), dtype, device, gen) for _ in range(3))
        return ([q, k, v], lambda q, k, v: L.attention_torch(q, k, v, causal),
                lambda q, k, v: L.flash_attention(q, k, v, causal))

    return _run("attention" if causal else "attention_full", (batch_size, seq_len, n_heads, d_head), make, device,
                dtype, backward, budget_ms, max_reps, verbose, use_cache)


def benchmark_newton_schulz(rows: int = 384, cols: int = 1536, steps: int = 5, *, dtype=None, device=None,
                            budget_ms: float = 100.0, max_reps: int = 100, verbose: bool = False,
                            use_cache: bool = True) -> dict:
    """Muon's Newton-Schulz orthogonalisation of a (rows, cols) matrix (5 quintic steps), no backward."""
    device, dtype, gen = _opts(device, dtype)
    if dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32  # Muon's update is orthogonalised in float32 (the kernels accumulate in it anyway)

    def make():
        g = _randn((rows, cols), dtype, device, gen)
        return [g], lambda g: L.newton_schulz_torch(g, steps), lambda g: L.newton_schulz(g, steps)

    return _run("newton_schulz", (rows, cols, steps), make, device, dtype, False, budget_ms, max_reps, verbose,
                use_cache)


# -------------------------------------------------------------------------------------------------- selection
def auto_select_kernels(config: ModelConfig, *, dtype=None, device=None, verbose: bool = False, **bench_kw) -> dict:
    """Times every op whose use_triton_* flag is on at the config's shapes (batch_size x max_seq_len, d_model,
    n_heads, d_ff; Newton-Schulz on a d_model x d_ff matrix) and keeps the flag only where our kernel is faster
    and correct. Without config.benchmark_kernels the flags are returned unchanged. Writes the decisions into
    config and returns {flag: bool, ..., "results": {flag: benchmark dict}}."""
    if not config.benchmark_kernels:
        return config.kernel_flags()
    device = _default_device(device if device is not None else config.device)
    if dtype is None:
        dtype = torch.bfloat16 if device.type == "cuda" and config.use_amp else torch.float32
    B, S, D, H, F = config.batch_size, config.max_seq_len, config.d_model, config.n_heads, config.d_ff
    kw = dict(dtype=dtype, device=device, verbose=verbose, **bench_kw)
    runs = {
        "use_triton_rmsnorm": lambda: benchmark_rms_norm(B, S, D, eps=config.norm_eps, **kw),
        "use_triton_rotary": lambda: benchmark_rotary(B, S, H, config.d_head, **kw),
        "use_triton_mlp": lambda: benchmark_mlp(B, S, D, F, fused=config.fused_mlp, **kw),
        "use_triton_attention": lambda: benchmark_attention(B, S, H, config.d_head, **kw),
        "use_triton_newton_schulz": lambda: benchmark_newton_schulz(D, F, **kw),
    }
    results = {}
    for flag, run in runs.items():
        if not getattr(config, flag):
            continue
        results[flag] = run()
        setattr(config, flag, bool(results[flag]["use_triton"]))
    selection = config.kernel_flags()
    log.info("kernel selection: %s", selection)
    return {**selection, "results": results}

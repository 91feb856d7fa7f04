"""LLM-kernel benchmark: every op of mini_triton.ops (RMSNorm, RoPE, SwiGLU MLP, causal flash attention,
Newton-Schulz) against PyTorch eager, torch.compile of the same PyTorch code, and the same kernel source under
real Triton (the `import mini_triton` lines of python/mini_triton/kernels/*.py rewritten to `import triton`, as
bench/vector_add_bw.py does), at the seed's shapes (16 x 256 x 384, 8 heads, d_head 48, d_ff 1536) and at LLM
scale (RMSNorm 8192 x 4096; RoPE and attention 8 x 4096 x 32 x 128; SwiGLU 4096 x 4096 -> 11008; Newton-Schulz
1024 x 4096).

    python3 bench/llm_bench.py [--out bench/results] [--budget-s 200]     # GPU (H100): JSON + PNG into --out
    python3 bench/llm_bench.py --ops swiglu_matmul,attention,newton_schulz --budget-s 400   # those ops only
    python3 bench/llm_bench.py --dry-run                                  # CPU, tiny shapes: checks the script
    TRITON_INTERPRET=1 python3 bench/llm_bench.py --dry-run               # + the Triton column, interpreted

Columns: eager (torch), compile (torch.compile of the eager function, default inductor), mini_triton (our
compiler: CUDA backend, or the CPU interpreter in --dry-run), triton (the same kernels under Triton). Modes: fwd,
and fwd+bwd where the op has a backward pass. Time: median of CUDA-event timed calls after a warm-up call that
compiles (a per-case time budget decides the count; for the 16-bit matmul-shaped ops it also autotunes, and the
configs chosen are recorded per column under "configs"); peak memory: torch.cuda.max_memory_allocated during one
call, above what was allocated before it (MiB). Each kernel column records its max abs error against eager.
A column that cannot run is recorded as null with a reason (no GPU, Triton missing, kernel error, time budget);
torch.compile columns run last, while the --budget-s wall-clock budget lasts.

Writes llm_bench.json (device name, date, versions, all cases) and llm_bench.png into --out.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
KERNELS = os.path.join(REPO, "python", "mini_triton", "kernels")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import mini_triton as mt  # noqa: E402,F401
from mini_triton.ops import attention as ops_attn  # noqa: E402
from mini_triton.ops import library as L  # noqa: E402
from mini_triton.ops import llm as ops_llm  # noqa: E402
from mini_triton.ops import muon as ops_muon  # noqa: E402
from mini_triton.ops import _tc  # noqa: E402

COLUMNS = ("eager", "compile", "mini_triton", "triton")


# ------------------------------------------------------------------------------------------------ real Triton
def load_triton_kernels():
    """kernels/{llm,attention,newton_schulz}.py compiled by real Triton (mini_triton.kernels.triton_twin).
    Returns {module name: module}, or raises with the reason."""
    from mini_triton.kernels import triton_twin
    return {name: triton_twin(os.path.join(KERNELS, f"{name}.py")) for name in ("llm", "attention", "newton_schulz")}


@contextlib.contextmanager
def under_triton(mods):
    """Points the torch-facing ops (mini_triton.ops.llm / attention / muon) at the Triton-compiled kernels and
    Triton's dtypes for the duration: the same launch code, the other compiler."""
    import triton.language as ttl
    saved = [(m, m._k, m.tl) for m in (ops_llm, ops_attn, ops_muon)]
    ops_llm._k, ops_attn._k, ops_muon._k = mods["llm"], mods["attention"], mods["newton_schulz"]
    for m in (ops_llm, ops_attn, ops_muon):
        m.tl = ttl
    try:
        yield
    finally:
        for m, k, tl in saved:
            m._k, m.tl = k, tl


# ------------------------------------------------------------------------------------------------------ cases
def rope_tables(d, s, device):
    return tuple(t.to(device) for t in ops_llm.rope_tables(d, s))


def case_rms(M, N, dtype, device, gen):
    x = torch.randn(M, N, generator=gen, device=device).to(dtype)
    w = (1.0 + 0.1 * torch.randn(N, generator=gen, device=device))
    return dict(op="rms_norm", shape=[M, N], inputs=[x, w],
                eager=lambda x, w: L.rms_norm_torch(x, w, 1e-6), ours=lambda x, w: ops_llm.rms_norm(x, w, 1e-6),
                flops=None, bytes=2 * x.numel() * x.element_size())


def case_rope(B, S, H, D, dtype, device, gen):
    q = torch.randn(B, S, H, D, generator=gen, device=device).to(dtype)
    k = torch.randn(B, S, H, D, generator=gen, device=device).to(dtype)
    cos, sin = rope_tables(D, S, device)
    return dict(op="rope", shape=[B, S, H, D], inputs=[q, k],
                eager=lambda q, k: L.apply_rotary_torch(q, k, cos, sin),
                ours=lambda q, k: ops_llm.apply_rotary(q, k, cos, sin), flops=None,
                bytes=4 * q.numel() * q.element_size())


def case_mlp(M, K, N, dtype, device, gen):
    x = torch.randn(M, K, generator=gen, device=device).to(dtype)
    w1 = (torch.randn(K, N, generator=gen, device=device) * K ** -0.5).to(dtype)
    w3 = (torch.randn(K, N, generator=gen, device=device) * K ** -0.5).to(dtype)
    return dict(op="swiglu_matmul", shape=[M, K, N], inputs=[x, w1, w3],
                eager=lambda x, a, b: L.swiglu_matmul_torch(x, a, b),
                ours=lambda x, a, b: ops_llm.swiglu_matmul(x, a, b), flops=4 * M * K * N, bytes=None)


def case_attn(B, H, S, D, dtype, device, gen):
    q, k, v = (torch.randn(B, H, S, D, generator=gen, device=device).to(dtype) for _ in range(3))
    return dict(op="attention", shape=[B, H, S, D], inputs=[q, k, v],
                eager=lambda q, k, v: L.attention_torch(q, k, v, True),
                ours=lambda q, k, v: ops_attn.flash_attention(q, k, v, True), flops=2 * B * H * S * S * D,
                bytes=None)


def case_ns(M, N, dtype, device, gen):
    g = torch.randn(M, N, generator=gen, device=device).to(dtype)
    m, n = min(M, N), max(M, N)
    return dict(op="newton_schulz", shape=[M, N], inputs=[g], eager=lambda g: L.newton_schulz_torch(g, 5),
                ours=lambda g: ops_muon.newton_schulz(g, 5), flops=5 * (4 * m * m * n + 2 * m ** 3), bytes=None,
                no_backward=True)


def cases(dry_run: bool):
    """(builder, args, modes, scale label)."""
    bf16, f32 = torch.bfloat16, torch.float32
    if dry_run:
        return [(case_rms, (8, 48, f32), ("fwd", "fwd+bwd"), "tiny"),
                (case_rope, (2, 8, 2, 16, f32), ("fwd", "fwd+bwd"), "tiny"),
                (case_mlp, (16, 16, 32, f32), ("fwd", "fwd+bwd"), "tiny"),
                (case_attn, (1, 2, 16, 24, f32), ("fwd", "fwd+bwd"), "tiny"),
                (case_ns, (16, 32, f32), ("fwd",), "tiny")]
    return [(case_rms, (16 * 256, 384, bf16), ("fwd", "fwd+bwd"), "seed"),
            (case_rope, (16, 256, 8, 48, bf16), ("fwd", "fwd+bwd"), "seed"),
            (case_mlp, (16 * 256, 384, 1536, bf16), ("fwd", "fwd+bwd"), "seed"),
            (case_attn, (16, 8, 256, 48, bf16), ("fwd", "fwd+bwd"), "seed"),
            (case_ns, (384, 1536, f32), ("fwd",), "seed"),
            (case_rms, (8192, 4096, bf16), ("fwd", "fwd+bwd"), "llm"),
            (case_rope, (8, 4096, 32, 128, bf16), ("fwd",), "llm"),
            (case_mlp, (4096, 4096, 11008, bf16), ("fwd",), "llm"),
            (case_attn, (8, 32, 4096, 128, bf16), ("fwd",), "llm"),
            (case_ns, (1024, 4096, f32), ("fwd",), "llm"),
            (case_ns, (384, 1536, bf16), ("fwd",), "seed"),
            (case_ns, (1024, 4096, bf16), ("fwd",), "llm")]

OP_OF = {case_rms: "rms_norm", case_rope: "rope", case_mlp: "swiglu_matmul", case_attn: "attention",
         case_ns: "newton_schulz"}


def tuned_configs():
    """{kernel name: config} of the autotuned launches (ops/_tc.py) since the last reset_tuned()."""
    out = {}
    for t in _tc._TUNED.values():
        cfg = getattr(t, "best_config", None)
        if cfg is not None:
            fn = getattr(t, "base_fn", None) or getattr(t, "fn", None)
            out[getattr(fn, "__name__", "?")] = str(cfg)
    return out


def reset_tuned():
    for t in _tc._TUNED.values():
        t.best_config = None


# ----------------------------------------------------------------------------------------------------- timing
def make_call(fn, inputs, mode):
    """A closure running fn (and its backward with ones as the output gradient in fwd+bwd mode)."""
    if mode == "fwd":
        def call():
            with torch.no_grad():
                return fn(*inputs)
        return call
    leaves = [t.detach().requires_grad_(True) if t.is_floating_point() else t for t in inputs]

    def call():
        for t in leaves:
            t.grad = None
        out = fn(*leaves)
        outs = out if isinstance(out, tuple) else (out,)
        torch.autograd.backward(list(outs), [torch.ones_like(o) for o in outs])
        return outs
    return call


def measure(call, device, budget_ms: float, max_reps: int = 50):
    """{ms (median), reps, peak_mib}, out: a warm-up call (compiles; a second one when it took longer than the
    budget, so that compile time does not decide), then timed calls within budget_ms (one when the warm-up alone
    took longer than the budget); the first timed call also gives the peak memory. A single timed call right
    after a compile is no steady-state time (the rmsnorm 8192x4096 forward: one sample of 0.33 ms, while the
    same kernel runs in 0.05 ms in bench/memory_bound.py)."""
    cuda = device.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    out = call()
    sync()
    if (time.perf_counter() - t0) * 1e3 > budget_ms:  # the first call compiled: judge by a second one
        t0 = time.perf_counter()
        out = call()
        sync()
    slow = (time.perf_counter() - t0) * 1e3 > budget_ms
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times, peak = [], None
    while len(times) < max_reps and (len(times) < (1 if slow else 3) or sum(times) < budget_ms):
        if cuda:
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            out = call()
            e.record()
            e.synchronize()
            ms = s.elapsed_time(e)
        else:
            t1 = time.perf_counter()
            out = call()
            ms = (time.perf_counter() - t1) * 1e3
        if cuda and peak is None:
            peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        times.append(ms)
        if slow:
            break
    return {"ms": statistics.median(times), "reps": len(times), "peak_mib": peak}, out


def first(out):
    return (out if isinstance(out, tuple) else (out,))[0].detach()


# ------------------------------------------------------------------------------------------------------- main
def run(args, checkpoint=lambda result: None):
    """The benchmark; checkpoint(result) after each case (partial results survive a kill)."""
    t0 = time.perf_counter()
    cuda = torch.cuda.is_available() and not args.dry_run
    device = torch.device("cuda" if cuda else "cpu")
    result = {"bench": "llm_bench", "device": torch.cuda.get_device_name() if cuda else "cpu (dry run)",
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "torch": torch.__version__, "dry_run": bool(args.dry_run), "columns": list(COLUMNS),
              "timing": "median of CUDA-event timed calls after a warm-up call" if cuda else "perf_counter median",
              "cases": []}
    skip_all = {}
    triton_mods = None
    if not cuda and os.environ.get("TRITON_INTERPRET") == "1":  # Triton's own CPU interpreter (a check only)
        try:
            triton_mods = load_triton_kernels()
            import triton
            result["triton"] = f"{triton.__version__} (TRITON_INTERPRET=1)"
        except Exception as e:
            skip_all["triton"] = f"Triton unavailable: {type(e).__name__}: {e}"[:500]
    elif not cuda:
        skip_all["triton"] = "no CUDA GPU (TRITON_INTERPRET=1 runs Triton's interpreter instead)"
    if not cuda:
        skip_all["compile"] = "dry run (CPU): skipped to keep it short" if args.dry_run else "no CUDA GPU"
    if cuda:
        try:
            triton_mods = load_triton_kernels()
            import triton
            result["triton"] = triton.__version__
        except Exception as e:
            skip_all["triton"] = f"Triton unavailable: {type(e).__name__}: {e}"[:500]
        if not hasattr(torch, "compile"):
            skip_all["compile"] = "torch.compile unavailable"
    budget_ms = args.case_budget_ms if cuda else 50.0
    gen = torch.Generator(device=device)
    pending_compile = []
    ops = set(args.ops.split(",")) if args.ops else None
    for builder, bargs, modes, scale in cases(args.dry_run):
        if ops is not None and OP_OF[builder] not in ops:
            continue
        gen.manual_seed(0)
        try:
            case = builder(*bargs, device, gen)
        except Exception as e:  # e.g. out of memory at LLM scale
            result["cases"].append({"op": builder.__name__, "scale": scale, "error": f"{type(e).__name__}: {e}"})
            continue
        for mode in modes:
            entry = {"op": case["op"], "scale": scale, "shape": case["shape"], "mode": mode,
                     "dtype": str(case["inputs"][0].dtype).replace("torch.", ""), "columns": {}, "skipped": {}}
            if case.get("flops"):
                entry["flops_fwd"] = case["flops"]
            result["cases"].append(entry)
            print(f"[{time.perf_counter() - t0:6.1f}s] {case['op']} {case['shape']} {mode}", flush=True)
            try:
                stats, ref = measure(make_call(case["eager"], case["inputs"], mode), device, budget_ms)
                entry["columns"]["eager"] = stats
                ref = first(ref)
            except Exception as e:
                entry["columns"]["eager"] = None
                entry["skipped"]["eager"] = f"{type(e).__name__}: {e}"[:500]
                ref = None
            for col in ("mini_triton", "triton"):
                if col in skip_all:
                    entry["columns"][col] = None
                    entry["skipped"][col] = skip_all[col]
                    continue
                if time.perf_counter() - t0 > args.budget_s:
                    entry["columns"][col] = None
                    entry["skipped"][col] = "time budget"
                    continue
                ctx = under_triton(triton_mods) if col == "triton" else contextlib.nullcontext()
                try:
                    reset_tuned()
                    with ctx:
                        stats, out = measure(make_call(case["ours"], case["inputs"], mode), device, budget_ms)
                    if tuned_configs():
                        stats["configs"] = tuned_configs()
                    if ref is not None:
                        stats["max_abs_err"] = float((first(out).float() - ref.float()).abs().max())
                    entry["columns"][col] = stats
                except Exception as e:
                    entry["columns"][col] = None
                    entry["skipped"][col] = f"{type(e).__name__}: {e}"[:1000]
            if "compile" in skip_all:
                entry["columns"]["compile"] = None
                entry["skipped"]["compile"] = skip_all["compile"]
            else:
                pending_compile.append((entry, case, mode))
            checkpoint(result)
        del case
        if cuda:
            torch.cuda.empty_cache()
    # torch.compile last: its compilation is the slowest part; stop when the budget is spent.
    for entry, case, mode in pending_compile:
        if time.perf_counter() - t0 > args.budget_s - 15:
            entry["columns"]["compile"] = None
            entry["skipped"]["compile"] = "time budget"
            continue
        print(f"[{time.perf_counter() - t0:6.1f}s] torch.compile {case['op']} {case['shape']} {mode}", flush=True)
        try:
            fn = torch.compile(case["eager"])
            stats, _ = measure(make_call(fn, case["inputs"], mode), device, budget_ms)
            entry["columns"]["compile"] = stats
        except Exception as e:
            entry["columns"]["compile"] = None
            entry["skipped"]["compile"] = f"{type(e).__name__}: {e}"[:1000]
        checkpoint(result)
    for entry in result["cases"]:
        cols = entry.get("columns", {})
        eager = cols.get("eager")
        for col, stats in cols.items():
            if stats and eager and col != "eager":
                stats["speedup_vs_eager"] = eager["ms"] / stats["ms"]
            if stats and entry.get("flops_fwd") and entry["mode"] == "fwd":
                stats["tflops"] = entry["flops_fwd"] / (stats["ms"] * 1e-3) / 1e12
    result["wall_s"] = time.perf_counter() - t0
    return result


def plot(result, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("notice: matplotlib is not importable; no PNG written")
        return False
    entries = [e for e in result["cases"] if e.get("columns")]
    labels = [f"{e['op']}\n{'x'.join(map(str, e['shape']))}\n{e['mode']}" for e in entries]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(entries)), 5))
    width = 0.2
    for i, col in enumerate(COLUMNS):
        xs, ys = [], []
        for j, e in enumerate(entries):
            s = e["columns"].get(col)
            if s:
                xs.append(j + (i - 1.5) * width)
                ys.append(s["ms"])
        ax.bar(xs, ys, width, label=col, color=f"C{i}")
    ax.set_yscale("log")
    ax.set_xticks(range(len(entries)))
    ax.set_xticklabels(labels, fontsize=6)
    ax.set_ylabel("time per call (ms, log)")
    ax.set_title(f"LLM kernels on {result['device']} ({result['date'][:10]})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description="LLM-kernel benchmark (see the module docstring)")
    ap.add_argument("--out", default=os.environ.get("OUT") or os.path.join(REPO, "bench", "results"))
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes, eager + mini_triton columns")
    ap.add_argument("--budget-s", type=float, default=200.0, help="wall-clock budget (compile columns stop)")
    ap.add_argument("--case-budget-ms", type=float, default=300.0, help="timed calls per column, in ms")
    ap.add_argument("--ops", default="", help="comma-separated ops to run (rms_norm, rope, swiglu_matmul, attention, "
                                              "newton_schulz); default: all")
    args = ap.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        print(json.dumps({"bench": "llm_bench", "skipped": "no CUDA GPU (use --dry-run for the CPU check)"}))
        return 0
    os.makedirs(args.out, exist_ok=True)
    name = "llm_bench_dry_run" if args.dry_run else "llm_bench"
    path = os.path.join(args.out, f"{name}.json")

    def save(result, partial=True):
        with open(path + ".tmp", "w") as f:
            json.dump(dict(result, partial=partial), f, indent=1)
        os.replace(path + ".tmp", path)

    result = run(args, save)
    save(result, partial=False)
    plot(result, os.path.join(args.out, f"{name}.png"))
    for e in result["cases"]:
        if "columns" not in e:
            print(f"{e['op']:14s} error: {e.get('error')}")
            continue
        cells = []
        for col in COLUMNS:
            s = e["columns"].get(col)
            cells.append(f"{col} {s['ms']:9.3f} ms" if s else f"{col} {'-':>9s}   ")
        print(f"{e['op']:14s} {'x'.join(map(str, e['shape'])):18s} {e['mode']:8s} " + "  ".join(cells))
    print(f"wrote {os.path.join(args.out, name + '.json')} ({result['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Memory-bound kernels, side by side: the same kernel source under mini_triton (CUDA target) and under real
Triton, on one GPU, in one run (issue 4's benchmark table).

    python3 bench/memory_bound.py [--out bench/results] [--only softmax,rope] [--quick]

Cases (sizes of issue 4): vector add fp32 2^28; fused softmax bf16 16384x4096; rmsnorm forward bf16 8192x4096;
RoPE (q and k) bf16 8x4096x32x128; SwiGLU gate bf16 50M elements. Kernel sources: examples/kernels/{vector_add,
softmax}.py and python/mini_triton/kernels/llm.py, imported twice with their import lines pointed at each
compiler. Every output is checked against a float64 torch reference before timing. Timing:
triton.testing.do_bench (CUDA events, L2 flushed between runs), median of its samples. The device-to-device copy
bandwidth (torch copy_ of 1 GiB) is measured in the same run. Writes memory_bound.json and memory_bound.png into
--out and prints the table. Prints {"skipped": reason} and exits 0 without torch, a CUDA GPU or Triton.
"""

import argparse
import datetime
import json
import os
import sys
import time

from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples", "kernels")
LLM = os.path.join(REPO, "python", "mini_triton", "kernels", "llm.py")


def skip(reason):
    print(json.dumps({"bench": "memory_bound", "skipped": reason}))
    sys.exit(0)


def cases(torch, quick):
    """Yields (name, description, bytes moved, setup) where setup(compiler) -> (run, check)."""
    dev = "cuda"
    g = torch.Generator(device=dev).manual_seed(1234)

    def rand(*shape, dtype=torch.float32, lo=-1.0, hi=1.0):
        return (torch.rand(*shape, generator=g, device=dev, dtype=torch.float32) * (hi - lo) + lo).to(dtype)

    def close(out, ref, tol):
        err = ((out.double() - ref).abs() / (ref.abs() + 1.0)).max().item()
        return err, err <= tol

    # ---- vector add fp32 ----
    n = 1 << (24 if quick else 28)
    x, y = rand(n), rand(n)

    def vector_add(compiler):
        k = load(os.path.join(EXAMPLES, "vector_add.py"), compiler).add_kernel
        out = torch.full_like(x, float("nan"))
        grid = ((n + 1023) // 1024,)
        return (lambda: k[grid](x, y, out, n, BLOCK_SIZE=1024),
                lambda: close(out, x.double() + y.double(), 1e-6))

    yield "vector_add", f"fp32 n=2^{n.bit_length() - 1}", 3 * n * 4, vector_add

    # ---- fused softmax bf16 ----
    M, N = (2048 if quick else 16384), 4096
    sx = rand(M, N, dtype=torch.bfloat16, lo=-4, hi=4)

    def softmax(compiler):
        k = load(os.path.join(EXAMPLES, "softmax.py"), compiler).softmax_kernel
        out = torch.full_like(sx, float("nan"))
        return (lambda: k[(M,)](out, sx, sx.stride(0), out.stride(0), N, BLOCK_SIZE=N, num_warps=8),
                lambda: close(out, torch.softmax(sx.double(), dim=1), 2e-2))

    yield "softmax", f"bf16 {M}x{N}", 2 * M * N * 2, softmax

    # ---- rmsnorm forward bf16 ----
    RM, RN = (1024 if quick else 8192), 4096
    rx, rw = rand(RM, RN, dtype=torch.bfloat16, lo=-2, hi=2), rand(RN, dtype=torch.bfloat16, lo=0.5, hi=1.5)
    eps = 1e-6

    def rmsnorm(compiler):
        mod = load(LLM, compiler)
        k, f32 = mod.rmsnorm_fwd_kernel, mod.tl.float32
        y = torch.full_like(rx, float("nan"))
        rstd = torch.empty(RM, device=dev, dtype=torch.float32)
        xd = rx.double()
        ref = xd * torch.rsqrt((xd * xd).mean(dim=1, keepdim=True) + eps) * rw.double()
        return (lambda: k[(RM,)](rx, rw, y, rstd, rx.stride(0), y.stride(0), RN, eps, BLOCK_N=RN, ACC=f32,
                                 num_warps=8),
                lambda: close(y, ref, 2e-2))

    yield "rmsnorm", f"bf16 {RM}x{RN}", 2 * RM * RN * 2 + RN * 2 + RM * 4, rmsnorm

    # ---- RoPE q and k, bf16 (B, S, H, D) ----
    B, S, H, D = (2 if quick else 8), 4096, 32, 128
    half = D // 2
    q, kk = rand(B, S, H, D, dtype=torch.bfloat16), rand(B, S, H, D, dtype=torch.bfloat16)
    inv = 1.0 / (10000 ** (torch.arange(half, device=dev, dtype=torch.float64) / half))
    ang = torch.arange(S, device=dev, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = ang.cos().float().contiguous(), ang.sin().float().contiguous()

    def rope_ref(t):
        t1, t2 = t.double()[..., :half], t.double()[..., half:]
        c, s_ = cos.double()[None, :, None, :], sin.double()[None, :, None, :]
        return torch.cat([t1 * c - t2 * s_, t2 * c + t1 * s_], dim=-1)

    def rope(compiler):
        mod = load(LLM, compiler)
        k, f32 = mod.rope_kernel, mod.tl.float32
        qo, ko = torch.full_like(q, float("nan")), torch.full_like(kk, float("nan"))

        def run():
            k[(B * S,)](q, kk, qo, ko, cos, sin, S, H, H, half, q.stride(0), q.stride(1), q.stride(2),
                        kk.stride(0), kk.stride(1), kk.stride(2), qo.stride(0), qo.stride(1), qo.stride(2),
                        ko.stride(0), ko.stride(1), ko.stride(2), cos.stride(0), BLOCK_HQ=H, BLOCK_HK=H,
                        BLOCK_HALF=half, BACKWARD=False, ACC=f32, num_warps=4)

        def check():
            e1, ok1 = close(qo, rope_ref(q), 2e-2)
            e2, ok2 = close(ko, rope_ref(kk), 2e-2)
            return max(e1, e2), ok1 and ok2

        return run, check

    yield "rope", f"bf16 {B}x{S}x{H}x{D} (q and k)", 4 * B * S * H * D * 2 + 2 * S * half * 4, rope

    # ---- SwiGLU gate bf16 ----
    sn = 5_000_000 if quick else 50_000_000
    a, b = rand(sn, dtype=torch.bfloat16, lo=-3, hi=3), rand(sn, dtype=torch.bfloat16)

    def swiglu(compiler):
        mod = load(LLM, compiler)
        k, f32 = mod.swiglu_fwd_kernel, mod.tl.float32
        h = torch.full_like(a, float("nan"))
        ad = a.double()
        ref = ad * torch.sigmoid(ad) * b.double()
        grid = ((sn + 1023) // 1024,)
        return (lambda: k[grid](a, b, h, sn, BLOCK=1024, ACC=f32), lambda: close(h, ref, 2e-2))

    yield "swiglu", f"bf16 n={sn}", 3 * sn * 2, swiglu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--once", action="store_true", help="run and check each kernel once, no timing (profilers)")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        skip("torch is not installed")
    if not torch.cuda.is_available():
        skip("no CUDA GPU")
    try:
        import triton
        import triton.testing
    except ImportError as e:
        skip(f"triton is not importable: {e}")
    import mini_triton  # noqa: F401  (fails loudly: this is what we measure)

    def bench(fn):
        return triton.testing.do_bench(fn, warmup=25, rep=100 if args.quick else 300, return_mode="median")

    copy_gbps = float("nan")
    if not args.once:
        src = torch.empty(1 << 28, device="cuda", dtype=torch.float32)
        dst = torch.empty_like(src)
        copy_ms = bench(lambda: dst.copy_(src))
        copy_gbps = 2 * src.numel() * 4 / (copy_ms * 1e-3) / 1e9
        del src, dst

    only = {s for s in args.only.split(",") if s}
    rows = []
    for name, desc, nbytes, setup in cases(torch, args.quick):
        if only and name not in only:
            continue
        row = {"case": name, "shape": desc, "bytes": nbytes}
        for compiler in ("mini_triton", "triton"):
            try:
                t0 = time.perf_counter()
                run, check = setup(compiler)
                run()
                torch.cuda.synchronize()
                row[f"{compiler}_first_call_s"] = time.perf_counter() - t0
                err, ok = check()
                row[f"{compiler}_max_rel_err"] = err
                if not ok:
                    raise AssertionError(f"wrong result: max relative error {err:.3g}")
                if args.once:
                    continue
                ms = bench(run)
                row[f"{compiler}_ms"] = ms
                row[f"{compiler}_gbps"] = nbytes / (ms * 1e-3) / 1e9
            except Exception as e:  # keep going: the other column is still worth having
                row[f"{compiler}_error"] = f"{type(e).__name__}: {e}"[:1500]
        if "mini_triton_gbps" in row and "triton_gbps" in row:
            row["ratio"] = row["mini_triton_gbps"] / row["triton_gbps"]
        for c in ("mini_triton", "triton"):
            if f"{c}_gbps" in row:
                row[f"{c}_pct_of_copy"] = 100.0 * row[f"{c}_gbps"] / copy_gbps
        rows.append(row)
        torch.cuda.empty_cache()

    result = {"bench": "memory_bound", "device": torch.cuda.get_device_name(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "torch": torch.__version__,
              "triton": getattr(triton, "__version__", "?"), "timing": "triton.testing.do_bench median",
              "copy_gbps": copy_gbps, "quick": args.quick, "rows": rows}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "memory_bound.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"device {result['device']}, copy bandwidth {copy_gbps:.0f} GB/s")
    print(f"{'case':<11} {'shape':<32} {'ours GB/s':>10} {'Triton GB/s':>12} {'ratio':>6} {'ours %copy':>10}")
    for r in rows:
        print(f"{r['case']:<11} {r['shape']:<32} {r.get('mini_triton_gbps', float('nan')):>10.0f} "
              f"{r.get('triton_gbps', float('nan')):>12.0f} {r.get('ratio', float('nan')):>6.2f} "
              f"{r.get('mini_triton_pct_of_copy', float('nan')):>9.1f}%")
        for c in ("mini_triton", "triton"):
            if f"{c}_error" in r:
                print(f"  {c} error: {r[c + '_error'][:400]}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        names = [r["case"] for r in rows]
        xs = range(len(rows))
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.bar([i - 0.2 for i in xs], [r.get("mini_triton_gbps", 0) for r in rows], 0.4, label="mini-triton")
        ax.bar([i + 0.2 for i in xs], [r.get("triton_gbps", 0) for r in rows], 0.4, label="Triton " + result["triton"])
        ax.axhline(copy_gbps, color="gray", ls="--", label=f"copy {copy_gbps:.0f} GB/s")
        ax.set_xticks(list(xs), names)
        ax.set_ylabel("GB/s")
        ax.set_title(f"Memory-bound kernels, {result['device']}, {result['date'][:10]}")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "memory_bound.png"), dpi=120)
    except Exception as e:
        print(f"no plot: {e}")
    ok = all("ratio" in r for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

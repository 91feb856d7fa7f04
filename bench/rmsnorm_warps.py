"""RMSNorm launch configuration on the GPU: mini_triton.ops.llm.rms_norm, forward and forward+backward, bf16
8192 x 4096 with the weight in fp32 (as bench/llm_bench.py) and in bf16 (as bench/memory_bound.py), for the
default num_warps rule (ops.llm._row_warps: 8 at 4096 columns) and for 4, 8 and 16 warps forced, under
mini_triton and under Triton (the same launch code: llm_bench.under_triton). Each output is checked against a
float64 reference first.

    python3 bench/rmsnorm_warps.py [--out DIR]     # GPU: rmsnorm_warps.json into --out (default $OUT or .)
    python3 bench/rmsnorm_warps.py --dry-run       # CPU interpreter, 64 x 256, mini_triton only: checks the script

Timing: triton.testing.do_bench (L2 flushed between calls, median) where Triton is importable, else the median of
20 CUDA-event timed calls after 3 warm-ups. "GB/s" counts x read, y written, the weight and rstd (forward).
"""

import argparse
import contextlib
import datetime
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llm_bench as LB  # noqa: E402  (puts python/ on sys.path, imports torch and mini_triton.ops)

import torch  # noqa: E402

from mini_triton.ops import llm as ops_llm  # noqa: E402


@contextlib.contextmanager
def forced_warps(w):
    """ops.llm's RMSNorm launches with num_warps=w (None: its own rule)."""
    saved = ops_llm._row_warps
    if w is not None:
        ops_llm._row_warps = lambda block_n: w
    try:
        yield
    finally:
        ops_llm._row_warps = saved


def make_timer(cuda):
    if cuda:
        try:
            from triton.testing import do_bench
            return lambda fn: do_bench(fn, warmup=25, rep=200, return_mode="median"), "triton.testing.do_bench"
        except ImportError:
            pass

    def timed(fn):
        for _ in range(3):
            fn()
        times = []
        for _ in range(20 if cuda else 2):
            if cuda:
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                fn()
                e.record()
                e.synchronize()
                times.append(s.elapsed_time(e))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)
    return timed, "median of CUDA-event timed calls" if cuda else "perf_counter median (CPU)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT") or ".")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    cuda = torch.cuda.is_available() and not args.dry_run
    if not cuda and not args.dry_run:
        print(json.dumps({"bench": "rmsnorm_warps", "skipped": "no CUDA GPU (use --dry-run for the CPU check)"}))
        return 0
    dev = "cuda" if cuda else "cpu"
    M, N = (8192, 4096) if cuda else (64, 256)
    g = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(M, N, generator=g, device=dev).to(torch.bfloat16)
    w32 = 1.0 + 0.1 * torch.randn(N, generator=g, device=dev)
    dy = torch.randn(M, N, generator=g, device=dev).to(torch.bfloat16)
    bench, timing = make_timer(cuda)
    compilers = {"mini_triton": contextlib.nullcontext}
    if cuda:
        try:
            mods = LB.load_triton_kernels()
            compilers["triton"] = lambda: LB.under_triton(mods)
        except Exception as e:  # Triton missing: our column only
            print(f"notice: no Triton column: {type(e).__name__}: {e}"[:300])
    result = {"bench": "rmsnorm_warps", "device": torch.cuda.get_device_name() if cuda else "cpu (dry run)",
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "shape": [M, N], "x_dtype": "bfloat16", "timing": timing, "rows": []}
    print(f"{'weight':7} {'compiler':12} {'warps':>7} {'fwd ms':>8} {'GB/s':>7} {'fwd+bwd ms':>11} {'max err':>9}")
    for wname, w in (("fp32", w32), ("bf16", w32.to(torch.bfloat16))):
        xd, wd = x.double(), w.double()
        ref = xd * torch.rsqrt((xd * xd).mean(dim=1, keepdim=True) + 1e-6) * wd
        fwd_bytes = 2 * M * N * x.element_size() + N * w.element_size() + M * 4
        block_n = 1 << (N - 1).bit_length()
        for cname, ctx in compilers.items():
            for warps in (None, 4, 8, 16):
                row = {"weight": wname, "compiler": cname,
                       "num_warps": warps if warps is not None else f"rule={ops_llm._row_warps(block_n)}"}
                try:
                    with ctx(), forced_warps(warps):
                        y = ops_llm.rms_norm(x, w, 1e-6)
                        row["max_rel_err"] = ((y.double() - ref).abs() / (ref.abs() + 1.0)).max().item()

                        def fwd():
                            with torch.no_grad():
                                ops_llm.rms_norm(x, w, 1e-6)
                        xl, wl = x.detach().requires_grad_(True), w.detach().requires_grad_(True)

                        def fwd_bwd():
                            xl.grad = wl.grad = None
                            ops_llm.rms_norm(xl, wl, 1e-6).backward(dy)
                        row["fwd_ms"] = bench(fwd)
                        row["fwd_gbps"] = fwd_bytes / (row["fwd_ms"] * 1e-3) / 1e9
                        row["fwd_bwd_ms"] = bench(fwd_bwd)
                except Exception as e:
                    row["error"] = f"{type(e).__name__}: {e}"[:500]
                result["rows"].append(row)
                if "error" in row:
                    print(f"{wname:7} {cname:12} {str(warps):>7} error: {row['error'][:200]}")
                    continue
                print(f"{wname:7} {cname:12} {str(row['num_warps']):>7} {row['fwd_ms']:8.4f} "
                      f"{row['fwd_gbps']:7.0f} {row['fwd_bwd_ms']:11.4f} {row['max_rel_err']:9.2e}", flush=True)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "rmsnorm_warps_dry_run.json" if args.dry_run else "rmsnorm_warps.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {path}")
    bad = [r for r in result["rows"] if "error" in r or r.get("max_rel_err", 0) > 2e-2]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Grouped matmul, bf16 in, bf16 out (fp32 accumulation): examples/kernels/matmul.py under mini_triton (GPU
target) and under real Triton, and torch.matmul (cuBLAS), at 4096^3 and 8192^3 by default.

Each library gets the same small autotuning space (block sizes, GROUP_SIZE_M, num_warps, num_stages): every
config is timed briefly at each size and the fastest is measured with triton.testing.do_bench (median,
warmup 25 ms, rep 100 ms), in 3 rounds with the libraries in turn (side_by_side.interleaved_final: the card's
clocks drift under sustained load, e.g. a power cap, and must not fall on one library). Accuracy: relative Frobenius error of a sample of output rows against a float64
reference, rel_err = ||C[rows] - ref|| / ||ref||.

Writes <out>/matmul_bf16.json (device, date, versions, per size: ms, TFLOP/s, rel_err, best config, every
config's time) and <out>/matmul_bf16.png (TFLOP/s bars), and prints the JSON. Without torch, a CUDA GPU,
Triton or mini_triton it prints {"skipped": reason} and exits 0.

    python3 bench/matmul_bench.py [--sizes 4096,8192] [--out bench/results] [--configs all|quick]
"""

import argparse
import datetime
import json
import os
import sys
import time

import side_by_side as sbs
from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(REPO, "examples", "kernels", "matmul.py")

# (BLOCK_SIZE_M, BLOCK_SIZE_N, BLOCK_SIZE_K, GROUP_SIZE_M, num_warps, num_stages): Triton's tutorial space for
# Hopper/Ampere, trimmed to keep the whole run under 3 minutes. The first one is the "quick" space.
# The last two suit mini_triton's current codegen, whose blocked tiles spill to local memory when a thread
# holds many elements of an operand (see bench/results/matmul_bf16_profile.txt).
CONFIGS = [
    (128, 128, 32, 8, 4, 4),
    (128, 256, 64, 8, 8, 3),
    (128, 128, 64, 8, 8, 4),
    (64, 128, 32, 8, 4, 4),
    (128, 64, 32, 8, 4, 4),
    (128, 128, 32, 8, 8, 3),
    (64, 64, 64, 8, 4, 3),
]


def skip(reason):
    print(json.dumps({"bench": "matmul_bf16", "skipped": reason}))
    sys.exit(0)


def config_name(cfg):
    bm, bn, bk, g, w, s = cfg
    return f"BM{bm}_BN{bn}_BK{bk}_G{g}_w{w}_s{s}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="4096,8192", help="comma-separated M=N=K values")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--configs", choices=("all", "quick"), default="all")
    ap.add_argument("--sample-rows", type=int, default=128, help="rows checked against float64")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    configs = CONFIGS if args.configs == "all" else CONFIGS[:1]
    start = time.time()
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
    try:
        import mini_triton  # noqa: F401
    except ImportError as e:
        skip(f"mini_triton is not importable: {e}")

    kernels = {}
    for label in ("mini_triton", "triton"):
        try:
            kernels[label] = load(KERNEL, label).matmul_kernel
        except Exception as e:  # report the other libraries anyway
            kernels[label] = f"{type(e).__name__}: {e}"[:2000]

    result = {"bench": "matmul_bf16", "kernel": "examples/kernels/matmul.py (grouped ordering)",
              "dtype": "bfloat16 in/out, fp32 accumulate", "device": torch.cuda.get_device_name(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "triton_version": getattr(triton, "__version__", "?"), "torch_version": torch.__version__,
              "timing": "triton.testing.do_bench median (warmup 25 ms, rep 100 ms); autotune: rep 20 ms per config; "
                        "final: median of 3 rounds, the libraries' best configs in turn (interleaved_final)",
              "rel_err": f"||C - ref||_F / ||ref||_F over {args.sample_rows} sampled rows, ref in float64",
              "sizes": []}
    gen = torch.Generator(device="cuda").manual_seed(0)
    for n in sizes:
        M = N = K = n
        a = torch.randn((M, K), device="cuda", dtype=torch.bfloat16, generator=gen)
        b = torch.randn((K, N), device="cuda", dtype=torch.bfloat16, generator=gen)
        rows = torch.randperm(M, device="cuda", generator=gen)[:args.sample_rows]
        ref = a[rows].double() @ b.double()
        flops = 2.0 * M * N * K
        entry = {"M": M, "N": N, "K": K}

        def rel_err(c):
            return ((c[rows].double() - ref).norm() / ref.norm()).item()

        # torch.matmul (cuBLAS)
        c = torch.matmul(a, b)
        ms = triton.testing.do_bench(lambda: torch.matmul(a, b), return_mode="median")
        entry["torch"] = {"ms": ms, "tflops": flops / (ms * 1e-3) / 1e12, "rel_err": rel_err(c),
                          "_run": lambda: torch.matmul(a, b)}

        for label in ("triton", "mini_triton"):
            kernel = kernels[label]
            if isinstance(kernel, str):
                entry[label] = {"error": kernel}
                continue
            c = torch.empty((M, N), device="cuda", dtype=torch.bfloat16)
            tried = {}

            def launcher(cfg, kernel=kernel, c=c):
                bm, bn, bk, g, w, s = cfg
                grid = (triton.cdiv(M, bm) * triton.cdiv(N, bn),)
                return lambda: kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                                            c.stride(0), c.stride(1), BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn,
                                            BLOCK_SIZE_K=bk, GROUP_SIZE_M=g, OUTPUT_FP16=False, num_warps=w,
                                            num_stages=s)

            for cfg in configs:
                try:
                    t0 = time.time()
                    run = launcher(cfg)
                    run()
                    torch.cuda.synchronize()
                    compile_s = time.time() - t0
                    tried[config_name(cfg)] = {"ms": triton.testing.do_bench(run, warmup=5, rep=20,
                                                                             return_mode="median"),
                                               "first_call_s": compile_s}
                except Exception as e:  # a config the library cannot compile or run (e.g. out of resources)
                    tried[config_name(cfg)] = {"error": f"{type(e).__name__}: {e}"[:500]}
            ok = [(v["ms"], name, cfg) for cfg in configs for name, v in [(config_name(cfg), tried[config_name(cfg)])]
                  if "ms" in v]
            if not ok:
                entry[label] = {"error": "no config ran", "configs": tried}
                continue
            _, best_name, best = min(ok)
            run = launcher(best)
            c.zero_()
            run()
            torch.cuda.synchronize()
            err = rel_err(c)
            ms = triton.testing.do_bench(run, return_mode="median")
            entry[label] = {"ms": ms, "tflops": flops / (ms * 1e-3) / 1e12, "rel_err": err, "config": best_name,
                            "configs": tried, "_run": run}
        sbs.interleaved_final(entry, ("torch", "triton", "mini_triton"),
                              lambda fn: triton.testing.do_bench(fn, return_mode="median"), flops)
        if "tflops" in entry.get("mini_triton", {}):
            for other in ("triton", "torch"):
                if "tflops" in entry.get(other, {}):
                    entry[f"mini_triton_vs_{other}"] = entry["mini_triton"]["tflops"] / entry[other]["tflops"]
        result["sizes"].append(entry)
        del a, b, ref
        torch.cuda.empty_cache()
    result["wall_s"] = time.time() - start

    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "matmul_bf16.json")
    with open(json_path, "w") as f:
        json.dump(result, f, indent=1)
    result["json"] = json_path
    try:
        result["png"] = plot(result, os.path.join(args.out, "matmul_bf16.png"))
    except Exception as e:  # matplotlib missing or broken: the JSON is what matters
        result["png_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(result, indent=1))
    ok = all("tflops" in s.get("mini_triton", {}) for s in result["sizes"])
    return 0 if ok else 1


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ("mini_triton", "triton", "torch")
    sizes = result["sizes"]
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.27
    for i, lab in enumerate(labels):
        vals = [s.get(lab, {}).get("tflops", 0.0) for s in sizes]
        xs = [j + (i - 1) * width for j in range(len(sizes))]
        bars = ax.bar(xs, vals, width, label=lab)
        for x, v in zip(xs, vals):
            ax.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
        del bars
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([f"{s['M']}^3" for s in sizes])
    ax.set_ylabel("TFLOP/s (median)")
    ax.set_title(f"grouped matmul bf16 - {result['device']} - {result['date'][:10]}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    sys.exit(main())

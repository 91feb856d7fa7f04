"""One Newton-Schulz step B = b*A + c*(A @ A) (Muon's b, c) for a symmetric 4096x4096 bf16 A, bf16 out:
  - library: mini_triton.kernels.newton_schulz.matmul_epilogue_kernel as Muon uses it for bf16 (ACC=fp32, DOT=bf16:
    bf16 tiles straight into tl.dot, fp32 accumulation; tensor cores in both compilers),
  - tensor_core: bench/kernels/newton_schulz_bf16.py (the same step with bf16 operands for tl.dot, fp32 accumulate,
    grouped program order),
each under mini_triton (GPU target) and real Triton (same text: mini_triton.kernels.triton_twin and
bench/kernel_source.py), and torch.addmm(A, A, A, beta=b, alpha=c) (cuBLAS). TFLOP/s = 2*N^3 / t.
Accuracy: relative Frobenius error of sampled rows against a float64 reference (<= 1e-2).

Writes <out>/newton_schulz_bf16.json and .png, prints a table; {"skipped": reason} and exit 0 without torch, a GPU,
Triton or mini_triton.

    python3 bench/newton_schulz_bench.py [--quick] [--out DIR] [--n 4096]
    python3 bench/newton_schulz_bench.py --dry-run --out DIR    # CPU interpreter, N=64, mini_triton + torch
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side as sbs  # noqa: E402
from kernel_source import load  # noqa: E402

TC_KERNEL = os.path.join(sbs.REPO, "bench", "kernels", "newton_schulz_bf16.py")
BENCH = "newton_schulz_bf16"
MAX_ERR = 1e-2
B_COEF, C_COEF = -4.7750, 2.0315  # Muon's quintic: X' = a X + (b A + c A^2) X
# (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages); the first of each is the --quick space.
LIB_CONFIGS = [(128, 128, 64, 8, 3), (128, 128, 32, 8, 3), (128, 64, 64, 4, 3), (64, 64, 64, 4, 3)]
TC_CONFIGS = [(128, 128, 64, 8, 3), (128, 256, 64, 8, 3), (128, 128, 32, 4, 4), (64, 128, 32, 4, 4),
              (128, 64, 64, 4, 4)]
DRY_CONFIGS = [(16, 16, 16, 4, 1), (32, 16, 16, 4, 1)]


def config_name(cfg):
    bm, bn, bk, w, s = cfg
    return f"BM{bm}_BN{bn}_BK{bk}_w{w}_s{s}"


def load_kernels(compilers):
    """{variant: {compiler: kernel or error string}} and {compiler: (float32, bfloat16) dtype objects of its
    language}."""
    import mini_triton.kernels.newton_schulz as lib
    kernels = {"library": {}, "tensor_core": {}}
    f32 = {}
    for label in compilers:
        try:
            if label == "triton":
                import triton.language as ttl
                from mini_triton.kernels import triton_twin
                kernels["library"][label] = triton_twin(lib).matmul_epilogue_kernel
                f32[label] = (ttl.float32, ttl.bfloat16)
            else:
                import mini_triton.language as mtl
                kernels["library"][label] = lib.matmul_epilogue_kernel
                f32[label] = (mtl.float32, mtl.bfloat16)
        except Exception as e:
            kernels["library"][label] = f"{type(e).__name__}: {e}"[:2000]
        try:
            kernels["tensor_core"][label] = load(TC_KERNEL, label).matmul_epilogue_tc_kernel
        except Exception as e:
            kernels["tensor_core"][label] = f"{type(e).__name__}: {e}"[:2000]
    return kernels, f32


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT") or os.path.join(sbs.REPO, "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="one config per library and variant")
    ap.add_argument("--dry-run", action="store_true", help="CPU interpreter, N=64 (a check of the script)")
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--sample-rows", type=int, default=256)
    args = ap.parse_args(argv)
    start = time.time()
    torch, dev, compilers = sbs.environment(BENCH, args.dry_run)
    N = 64 if args.dry_run else args.n
    kernels, f32 = load_kernels(compilers)
    time_fn, timing = sbs.timer(dev, torch)
    labels = list(compilers) + ["torch"]
    result = sbs.metadata(torch, BENCH, dev, N=N, b=B_COEF, c=C_COEF, timing=timing, flops="2*N^3",
                          dtype="bfloat16 in/out, fp32 accumulate",
                          torch_baseline="torch.addmm(A, A, A, beta=b, alpha=c)",
                          rel_err=f"||B - ref||_F / ||ref||_F over {args.sample_rows} sampled rows, ref in float64; "
                                  f"must be <= {MAX_ERR}", cases=[])
    gen = torch.Generator(device=dev).manual_seed(0)
    g = torch.randn((N, N), device=dev, dtype=torch.float32, generator=gen)
    a = ((g + g.T) / (2.0 * N ** 0.5)).to(torch.bfloat16)  # symmetric, spectral norm about sqrt(2)
    del g
    rows = torch.randperm(N, device=dev, generator=gen)[:min(args.sample_rows, N)]
    ad = a.double()
    ref = B_COEF * ad[rows] + C_COEF * (ad[rows] @ ad)
    del ad

    def rel_err(out):
        return ((out[rows].double() - ref).norm() / ref.norm()).item()
    flops = 2.0 * N ** 3
    base = sbs.measure_baseline(torch, dev, time_fn, lambda: torch.addmm(a, a, a, beta=B_COEF, alpha=C_COEF),
                                rel_err, flops, MAX_ERR)
    for variant, cfgs in (("library", LIB_CONFIGS), ("tensor_core", TC_CONFIGS)):
        configs = DRY_CONFIGS if args.dry_run else cfgs[:1] if args.quick else cfgs
        lib_kernel = "mini_triton/kernels/newton_schulz.py matmul_epilogue_kernel, ACC=fp32, DOT=bf16"
        entry = {"name": variant, "kernel": (lib_kernel if variant == "library" else
                                             "bench/kernels/newton_schulz_bf16.py matmul_epilogue_tc_kernel"),
                 "torch": base}
        for label in compilers:
            kernel = kernels[variant][label]
            if isinstance(kernel, str):
                entry[label] = {"error": kernel}
                continue
            out = torch.empty_like(a)

            def make_run(cfg, kernel=kernel, out=out, label=label, variant=variant):
                bm, bn, bk, w, s = cfg
                common = (a, a, a, out, N, N, N, a.stride(0), a.stride(1), a.stride(0), a.stride(1), a.stride(0),
                          a.stride(1), out.stride(0), out.stride(1))
                if variant == "library":
                    grid = ((N + bm - 1) // bm, (N + bn - 1) // bn)
                    return lambda: kernel[grid](*common, ALPHA=C_COEF, BETA=B_COEF, BLOCK_M=bm, BLOCK_N=bn,
                                                BLOCK_K=bk, ACC=f32[label][0], DOT=f32[label][1], num_warps=w,
                                                num_stages=s)
                grid = (((N + bm - 1) // bm) * ((N + bn - 1) // bn),)
                return lambda: kernel[grid](*common, ALPHA=C_COEF, BETA=B_COEF, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk,
                                            GROUP_M=8, num_warps=w, num_stages=s)
            entry[label] = sbs.tune_and_measure(torch, dev, time_fn, configs, config_name, make_run, out, rel_err,
                                                flops, MAX_ERR)
        sbs.interleaved_final(entry, labels, time_fn, flops)
        sbs.ratios(entry, labels)
        result["cases"].append(entry)
    result["wall_s"] = time.time() - start
    stem = BENCH + ("_dry_run" if args.dry_run else "")
    path = sbs.write(result, args.out, stem, labels, f"Newton-Schulz step b*A + c*A@A bf16 N={N}")
    sbs.print_table(result["cases"], labels)
    print(f"wrote {path} ({result['wall_s']:.0f} s)")
    ok = all(c.get(lab, {}).get("rel_err_ok") for c in result["cases"] for lab in labels)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

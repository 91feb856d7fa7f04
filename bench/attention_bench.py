"""Flash-attention forward, bf16 in/out (fp32 softmax and accumulation), B=4 H=32 S=4096, head dim 128 and 64,
causal and not: bench/kernels/attention_bf16.py under mini_triton (GPU target) and under real Triton 3.x (the same
file, its import lines rebound by bench/kernel_source.py), and torch SDPA (flash backend when available).

Each library gets the same small config space (BLOCK_M, BLOCK_N, num_warps, num_stages), every config timed
briefly, the fastest measured with triton.testing.do_bench (median). FLOPs = 4*B*H*S*S*D, halved when causal.
Accuracy: relative Frobenius error of sampled query rows of two heads against a float64 reference (<= 1e-2).
examples/kernels/attention.py is not used as is: its second tl.dot mixes fp32 probabilities with bf16 V (Triton
rejects operands of different dtypes) and it stores fp32 into Out.

Writes <out>/attention_bf16.json and .png, prints a table. Without torch, a GPU, Triton or mini_triton it prints
{"skipped": reason} and exits 0.

    python3 bench/attention_bench.py [--quick] [--out DIR]
    python3 bench/attention_bench.py --dry-run --out DIR    # CPU interpreter, tiny shapes, mini_triton + torch
"""

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side as sbs  # noqa: E402
from kernel_source import load  # noqa: E402

KERNEL = os.path.join(sbs.REPO, "bench", "kernels", "attention_bf16.py")
BENCH = "attention_bf16"
MAX_ERR = 1e-2
# (BLOCK_M, BLOCK_N, num_warps, num_stages); the first is the --quick space.
CONFIGS = [(128, 64, 8, 3), (128, 64, 4, 3), (128, 128, 8, 3), (64, 64, 4, 3), (128, 32, 4, 4)]
DRY_CONFIGS = [(16, 16, 4, 1), (32, 16, 4, 1)]


def config_name(cfg):
    bm, bn, w, s = cfg
    return f"BM{bm}_BN{bn}_w{w}_s{s}"


def cases(args):
    if args.dry_run:
        return (1, 2, 64), [(32, False), (32, True), (16, True)]
    if args.quick:
        return (4, 32, 4096), [(128, False), (128, True)]
    return (4, 32, 4096), [(128, False), (128, True), (64, False), (64, True)]


def reference(torch, q, k, v, rows, heads, scale, causal):
    """softmax(q k^T * scale) v in float64 at query `rows` of each (batch, head) in `heads`, stacked."""
    refs = []
    for b, h in heads:
        s = (q[b, h, rows].double() @ k[b, h].double().T) * scale
        if causal:
            s = s.masked_fill(torch.arange(k.shape[2], device=q.device)[None, :] > rows[:, None], float("-inf"))
        refs.append(torch.softmax(s, dim=-1) @ v[b, h].double())
    return torch.stack(refs)


def rel_err_at(torch, o, ref, rows, heads):
    """||o - ref|| / ||ref|| over the rows and heads `reference` computed `ref` at."""
    got = torch.stack([o[b, h, rows].double() for b, h in heads])
    return ((got - ref).norm() / ref.norm()).item()


def sdpa(torch, dev):
    """(fn(q, k, v, causal) -> o, backend description)."""
    F = torch.nn.functional
    if dev == "cuda":
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel

            def flash(q, k, v, causal):
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            return flash, "torch SDPA, flash backend (sdpa_kernel(SDPBackend.FLASH_ATTENTION))"
        except ImportError:
            pass
    return (lambda q, k, v, causal: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
            "torch SDPA, default backend")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT") or os.path.join(sbs.REPO, "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="head dim 128 only, one config per library")
    ap.add_argument("--dry-run", action="store_true", help="CPU interpreter, tiny shapes (a check of the script)")
    ap.add_argument("--sample-rows", type=int, default=256, help="query rows per checked head")
    args = ap.parse_args(argv)
    start = time.time()
    torch, dev, compilers = sbs.environment(BENCH, args.dry_run)
    kernels = {}
    for label in compilers:
        try:
            kernels[label] = load(KERNEL, label).attn_fwd_bf16_kernel
        except Exception as e:  # report the other libraries anyway
            kernels[label] = f"{type(e).__name__}: {e}"[:2000]
    configs = DRY_CONFIGS if args.dry_run else CONFIGS[:1] if args.quick else CONFIGS
    time_fn, timing = sbs.timer(dev, torch)
    torch_fn, torch_desc = sdpa(torch, dev)
    labels = list(compilers) + ["torch"]
    (B, H, S), shapes = cases(args)
    result = sbs.metadata(torch, BENCH, dev, kernel="bench/kernels/attention_bf16.py (attn_fwd_bf16_kernel)",
                          dtype="bfloat16 in/out, fp32 softmax + accumulation", timing=timing, torch_baseline=torch_desc,
                          flops="4*B*H*S*S*D (halved for causal)",
                          rel_err=f"||O - ref||_F / ||ref||_F over {args.sample_rows} query rows of heads (0,0) and "
                                  f"(B-1,H-1), ref in float64; must be <= {MAX_ERR}",
                          shape={"B": B, "H": H, "S": S}, cases=[])
    gen = torch.Generator(device=dev).manual_seed(0)
    for D, causal in shapes:
        name = f"D{D}{'_causal' if causal else ''}"
        q, k, v = (torch.randn((B, H, S, D), device=dev, dtype=torch.bfloat16, generator=gen) for _ in range(3))
        scale = 1.0 / math.sqrt(D)
        rows = torch.randperm(S, device=dev, generator=gen)[:min(args.sample_rows, S)]
        heads = [(0, 0), (B - 1, H - 1)]
        ref = reference(torch, q, k, v, rows, heads, scale, causal)

        def rel_err(o):
            return rel_err_at(torch, o, ref, rows, heads)
        flops = 4.0 * B * H * S * S * D / (2 if causal else 1)
        entry = {"name": name, "B": B, "H": H, "S": S, "D": D, "causal": causal, "flops": flops}
        entry["torch"] = sbs.measure_baseline(torch, dev, time_fn, lambda: torch_fn(q, k, v, causal), rel_err, flops,
                                              MAX_ERR)
        for label in compilers:
            kernel = kernels[label]
            if isinstance(kernel, str):
                entry[label] = {"error": kernel}
                continue
            o = torch.empty_like(q)

            def make_run(cfg, kernel=kernel, o=o):
                bm, bn, w, st = cfg
                if S % bm or S % bn:
                    raise ValueError(f"S={S} is not a multiple of BLOCK_M={bm} and BLOCK_N={bn}")
                grid = (S // bm, B * H)
                return lambda: kernel[grid](q, k, v, o, scale, q.stride(0), q.stride(1), q.stride(2), q.stride(3),
                                            H, S, HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal,
                                            num_warps=w, num_stages=st)
            entry[label] = sbs.tune_and_measure(torch, dev, time_fn, configs, config_name, make_run, o, rel_err,
                                                flops, MAX_ERR)
        sbs.interleaved_final(entry, labels, time_fn, flops)
        sbs.ratios(entry, labels)
        result["cases"].append(entry)
        del q, k, v
        if dev == "cuda":
            torch.cuda.empty_cache()
    result["wall_s"] = time.time() - start
    stem = BENCH + ("_dry_run" if args.dry_run else "")
    path = sbs.write(result, args.out, stem, labels, "flash-attention fwd bf16"
                     + ("" if args.dry_run else f" B{B} H{H} S{S}"))
    sbs.print_table(result["cases"], labels)
    print(f"wrote {path} ({result['wall_s']:.0f} s)")
    ok = all(c.get(lab, {}).get("rel_err_ok") for c in result["cases"] for lab in labels)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Per-config timings of bench/kernels/attention_bf16.py (B4 H32 S4096) for A/B runs of code-generation changes:
each case's one config, timed in `--rounds` rounds (triton.testing.do_bench median, warmup 25 ms, rep 100 ms)
with the cases in turn, after a check against float64 on a few query rows. Appends one JSON line per case to
--out/attention_ab.jsonl (label, case, config, ms per round, median ms, TFLOP/s, rel_err) and prints a line each.
Exit status 1 if a case's rel_err is over 1e-2.

    python3 bench/attention_ab.py --label pin [--compiler triton] [--cases D128,D128c,D64,D64c] [--out DIR]
    python3 bench/attention_ab.py --label x --dry-run     # CPU interpreter, tiny shapes (a check of the script)

Cases: D128 / D128c (causal): BM128 BN128 w8 s3; D64 / D64c: BM64 BN64 w4 s3 (the session-9 best configs).
--config BM,BN,W,S overrides the config of every case. Run it once per variant (environment switches, or a
rebuild with a change reverted) with a different label; compare the medians of the same device only
(bench/attention_variants.sh runs the opt-in variants).
"""

import argparse
import json
import math
import os
import statistics

import side_by_side as sbs
from attention_bench import reference, rel_err_at
from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = {"D128": (128, False, (128, 128, 8, 3)), "D128c": (128, True, (128, 128, 8, 3)),
         "D64": (64, False, (64, 64, 4, 3)), "D64c": (64, True, (64, 64, 4, 3))}
DRY = {"D128": (32, False, (32, 32, 4, 2)), "D128c": (32, True, (32, 32, 4, 2)),
       "D64": (16, False, (16, 16, 1, 2)), "D64c": (16, True, (16, 16, 1, 2))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--cases", default="D128,D128c,D64,D64c")
    ap.add_argument("--config", help="BLOCK_M,BLOCK_N,num_warps,num_stages for every case")
    ap.add_argument("--compiler", choices=("mini_triton", "triton"), default="mini_triton")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dry-run", action="store_true", help="CPU interpreter, tiny shapes (a check of the script)")
    ap.add_argument("--out", default=os.environ.get("OUT", os.path.join(REPO, "bench", "results")))
    args = ap.parse_args()
    torch, dev, _ = sbs.environment("attention_ab", args.dry_run)
    time_fn, _ = sbs.timer(dev, torch)

    kernel = load(os.path.join(REPO, "bench", "kernels", "attention_bf16.py"), args.compiler).attn_fwd_bf16_kernel
    B, H, S = (1, 2, 64) if args.dry_run else (4, 32, 4096)
    runs, meta = {}, {}
    for name in args.cases.split(","):
        D, causal, cfg = (DRY if args.dry_run else CASES)[name]
        bm, bn, w, s = [int(x) for x in args.config.split(",")] if args.config else cfg
        gen = torch.Generator(device=dev).manual_seed(0)
        q, k, v = (torch.randn(B, H, S, D, device=dev, dtype=torch.bfloat16, generator=gen) for _ in range(3))
        o = torch.full_like(q, float("nan"))
        scale = 1.0 / math.sqrt(D)

        def run(q=q, k=k, v=v, o=o, scale=scale, D=D, causal=causal, bm=bm, bn=bn, w=w, s=s):
            kernel[(S // bm, B * H)](q, k, v, o, scale, q.stride(0), q.stride(1), q.stride(2), q.stride(3), H, S,
                                     HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal, num_warps=w, num_stages=s)

        run()
        sbs.sync(torch, dev)
        rows = torch.arange(0, S, 97 if S > 97 else 5, device=dev)
        heads = [(B - 1, H - 1)]
        err = rel_err_at(torch, o, reference(torch, q, k, v, rows, heads, scale, causal), rows, heads)
        runs[name] = run
        flops = 4.0 * B * H * S * S * D / (2 if causal else 1)
        meta[name] = {"label": args.label, "compiler": args.compiler, "case": name, "device": dev,
                      "config": f"BM{bm}_BN{bn}_w{w}_s{s}", "rel_err": err, "flops": flops}
    times = {name: [] for name in runs}
    order = list(runs)
    for r in range(args.rounds):
        for name in order[r % len(order):] + order[:r % len(order)]:
            times[name].append(time_fn(runs[name]))
    os.makedirs(args.out, exist_ok=True)
    ok = True
    with open(os.path.join(args.out, "attention_ab.jsonl"), "a") as f:
        for name in order:
            m = meta[name]
            m["ms_rounds"] = times[name]
            m["ms"] = statistics.median(times[name])
            m["tflops"] = m["flops"] / (m["ms"] * 1e-3) / 1e12
            f.write(json.dumps(m) + "\n")
            ok = ok and m["rel_err"] <= 1e-2
            print(f"{args.label:>12} {args.compiler:>11} {name:>6} {m['config']:>18} {m['ms']:.4f} ms "
                  f"{m['tflops']:6.1f} TFLOP/s  rounds {' '.join(f'{t:.4f}' for t in times[name])}  "
                  f"rel_err {m['rel_err']:.2e}{'' if m['rel_err'] <= 1e-2 else '  FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

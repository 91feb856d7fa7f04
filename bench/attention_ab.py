"""Per-config timings of bench/kernels/attention_bf16.py (B4 H32 S4096) for A/B runs of code-generation changes:
each case's one config, timed in `--rounds` rounds (triton.testing.do_bench median, warmup 25 ms, rep 100 ms)
with the cases in turn, after a check against float64 on a few query rows. Appends one JSON line per case to
--out/attention_ab.jsonl (label, case, config, ms per round, median ms, TFLOP/s, rel_err) and prints a line each.

    python3 bench/attention_ab.py --label pin [--compiler triton] [--cases D128,D128c,D64,D64c] [--out DIR]

Cases: D128 / D128c (causal): BM128 BN128 w8 s3; D64 / D64c: BM64 BN64 w4 s3 (the session-9 best configs).
--config BM,BN,W,S overrides the config of every case. Build two variants in turn (e.g. with a change reverted)
and run this after each with a different label; compare the medians of the same device only.
"""

import argparse
import json
import math
import os
import statistics

from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = {"D128": (128, False, (128, 128, 8, 3)), "D128c": (128, True, (128, 128, 8, 3)),
         "D64": (64, False, (64, 64, 4, 3)), "D64c": (64, True, (64, 64, 4, 3))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--cases", default="D128,D128c,D64,D64c")
    ap.add_argument("--config", help="BLOCK_M,BLOCK_N,num_warps,num_stages for every case")
    ap.add_argument("--compiler", choices=("mini_triton", "triton"), default="mini_triton")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.environ.get("OUT", os.path.join(REPO, "bench", "results")))
    args = ap.parse_args()
    import torch
    import triton.testing

    kernel = load(os.path.join(REPO, "bench", "kernels", "attention_bf16.py"), args.compiler).attn_fwd_bf16_kernel
    B, H, S = 4, 32, 4096
    runs, meta = {}, {}
    for name in args.cases.split(","):
        D, causal, cfg = CASES[name]
        bm, bn, w, s = [int(x) for x in args.config.split(",")] if args.config else cfg
        torch.manual_seed(0)
        q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        o = torch.full_like(q, float("nan"))
        scale = 1.0 / math.sqrt(D)

        def run(q=q, k=k, v=v, o=o, scale=scale, D=D, causal=causal, bm=bm, bn=bn, w=w, s=s):
            kernel[(S // bm, B * H)](q, k, v, o, scale, q.stride(0), q.stride(1), q.stride(2), q.stride(3), H, S,
                                     HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal, num_warps=w, num_stages=s)

        run()
        torch.cuda.synchronize()
        rows = torch.arange(0, S, 97, device="cuda")
        qs, ks, vs = q[1, 3].double(), k[1, 3].double(), v[1, 3].double()
        logits = (qs[rows] @ ks.T) * scale
        if causal:
            logits = logits.masked_fill(torch.arange(S, device="cuda")[None, :] > rows[:, None], float("-inf"))
        ref = torch.softmax(logits, dim=-1) @ vs
        err = ((o[1, 3, rows].double() - ref).norm() / ref.norm()).item()
        runs[name] = run
        flops = 4.0 * B * H * S * S * D / (2 if causal else 1)
        meta[name] = {"label": args.label, "compiler": args.compiler, "case": name,
                      "config": f"BM{bm}_BN{bn}_w{w}_s{s}", "rel_err": err, "flops": flops}
    times = {name: [] for name in runs}
    order = list(runs)
    for r in range(args.rounds):
        for name in order[r % len(order):] + order[:r % len(order)]:
            times[name].append(triton.testing.do_bench(runs[name], warmup=25, rep=100, return_mode="median"))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "attention_ab.jsonl"), "a") as f:
        for name in order:
            m = meta[name]
            m["ms_rounds"] = times[name]
            m["ms"] = statistics.median(times[name])
            m["tflops"] = m["flops"] / (m["ms"] * 1e-3) / 1e12
            f.write(json.dumps(m) + "\n")
            print(f"{args.label:>12} {args.compiler:>11} {name:>6} {m['config']:>18} {m['ms']:.4f} ms "
                  f"{m['tflops']:6.1f} TFLOP/s  rounds {' '.join(f'{t:.4f}' for t in times[name])}  "
                  f"rel_err {m['rel_err']:.2e}{'' if m['rel_err'] <= 1e-2 else '  FAILED'}")


if __name__ == "__main__":
    main()

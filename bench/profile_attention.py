"""One launch of bench/kernels/attention_bf16.py (B4 H32 S4096), for a profiler:

    ncu --kernel-name regex:attn --launch-skip 1 --launch-count 1 --section SpeedOfLight \
        python3 bench/profile_attention.py [--head-dim 128] [--causal] [--config 128,128,8,3]

--compiler triton runs the same source under Triton. Runs the kernel twice (the first launch compiles) and checks
a few query rows of the first head against a float64 reference.
"""

import argparse
import math
import os

from attention_bench import reference, rel_err_at
from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--config", default="128,128,8,3", help="BLOCK_M,BLOCK_N,num_warps,num_stages")
    ap.add_argument("--compiler", choices=("mini_triton", "triton"), default="mini_triton")
    args = ap.parse_args()
    import torch

    bm, bn, w, s = [int(x) for x in args.config.split(",")]
    B, H, S, D = 4, 32, 4096, args.head_dim
    kernel = load(os.path.join(REPO, "bench", "kernels", "attention_bf16.py"), args.compiler).attn_fwd_bf16_kernel
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    o = torch.empty_like(q)
    scale = 1.0 / math.sqrt(D)
    for _ in range(2):
        kernel[(S // bm, B * H)](q, k, v, o, scale, q.stride(0), q.stride(1), q.stride(2), q.stride(3), H, S,
                                 HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=args.causal, num_warps=w, num_stages=s)
    torch.cuda.synchronize()
    rows = torch.arange(0, S, 97, device="cuda")
    err = rel_err_at(torch, o, reference(torch, q, k, v, rows, [(0, 0)], scale, args.causal), rows, [(0, 0)])
    print(f"{args.compiler} attention D{D}{' causal' if args.causal else ''} config {args.config}: rel_err {err:.3e}")


if __name__ == "__main__":
    main()

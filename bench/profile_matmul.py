"""One launch of examples/kernels/matmul.py under mini_triton (GPU), for a profiler:

    ncu --kernel-name regex:matmul --launch-skip 1 --launch-count 1 --section SpeedOfLight \
        python3 bench/profile_matmul.py [--size 4096] [--config 128,128,64,8,8]

--compiler triton runs the same source under Triton. Runs the kernel twice (the first launch compiles) and checks the result against torch.matmul.
"""

import argparse
import os

from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--config", default="128,128,64,8,8", help="BM,BN,BK,GROUP_M,num_warps[,num_stages]")
    ap.add_argument("--compiler", choices=("mini_triton", "triton"), default="mini_triton")
    args = ap.parse_args()
    import torch

    cfg = [int(x) for x in args.config.split(",")]
    bm, bn, bk, g, w = cfg[:5]
    stages = cfg[5] if len(cfg) > 5 else 3
    mod = load(os.path.join(REPO, "examples", "kernels", "matmul.py"), args.compiler)
    n = args.size
    torch.manual_seed(0)
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    c = torch.empty(n, n, device="cuda", dtype=torch.bfloat16)
    grid = (((n + bm - 1) // bm) * ((n + bn - 1) // bn),)
    for _ in range(2):
        mod.matmul_kernel[grid](a, b, c, n, n, n, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0),
                                c.stride(1), BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk, GROUP_SIZE_M=g,
                                OUTPUT_FP16=False, num_warps=w, num_stages=stages)
    torch.cuda.synchronize()
    ref = (a.float() @ b.float())
    err = ((c.float() - ref).norm() / ref.norm()).item()
    print(f"{args.compiler} matmul {n}^3 config {args.config}: rel_err {err:.3e}")


if __name__ == "__main__":
    main()

"""Vector-add bandwidth: examples/kernels/vector_add.py under mini_triton (GPU target) and under real Triton,
on 2^28 fp32 elements, timed with triton.testing.do_bench (median). Prints one JSON object:

    {"n": ..., "mini_triton_gbps": ..., "triton_gbps": ..., "ratio": mini/triton, "device": ..., "date": ...}

Skips (prints {"skipped": reason}, exit 0) without torch, a CUDA GPU or Triton.

    python3 bench/vector_add_bw.py [--log2n 28] [--block 1024]
"""

import argparse
import datetime
import json
import os
import sys

from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(REPO, "examples", "kernels", "vector_add.py")


def skip(reason):
    print(json.dumps({"bench": "vector_add_bw", "skipped": reason}))
    sys.exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log2n", type=int, default=28)
    ap.add_argument("--block", type=int, default=1024)
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
    try:
        import mini_triton
    except ImportError as e:
        skip(f"mini_triton is not importable: {e}")

    n = 1 << args.log2n
    x = torch.rand(n, device="cuda")
    y = torch.rand(n, device="cuda")
    ref = x + y
    result = {"bench": "vector_add_bw", "n": n, "dtype": "float32", "block": args.block,
              "device": torch.cuda.get_device_name(), "date": datetime.datetime.utcnow().isoformat() + "Z",
              "triton_version": getattr(triton, "__version__", "?"), "timing": "triton.testing.do_bench median"}
    bytes_moved = 3 * n * 4
    grid = (triton.cdiv(n, args.block),)

    for label in ("mini_triton", "triton"):
        try:
            kernel = load(KERNEL, label).add_kernel
            out = torch.empty_like(x)

            def run(kernel=kernel, out=out):
                kernel[grid](x, y, out, n, BLOCK_SIZE=args.block)

            run()
            torch.cuda.synchronize()
            err = (out - ref).abs().max().item()
            ms = triton.testing.do_bench(run, return_mode="median")
            result[f"{label}_ms"] = ms
            result[f"{label}_gbps"] = bytes_moved / (ms * 1e-3) / 1e9
            result[f"{label}_max_abs_err"] = err
        except Exception as e:  # report and go on: the other side's number is still useful
            result[f"{label}_error"] = f"{type(e).__name__}: {e}"[:2000]
    if "mini_triton_gbps" in result and "triton_gbps" in result:
        result["ratio"] = result["mini_triton_gbps"] / result["triton_gbps"]
    print(json.dumps(result, indent=1))
    return 0 if "ratio" in result else 1


if __name__ == "__main__":
    sys.exit(main())

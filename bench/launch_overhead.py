"""Microseconds per launch of an (almost) empty kernel from Python: the cost of mini_triton's launch path
(argument classification, cache lookup, C++ launch of a 1-program grid). Prints one JSON object.

    python3 bench/launch_overhead.py [--iters N]
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def empty_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    pass


@triton.jit
def tiny_kernel(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def per_launch_us(launch, iters):
    for _ in range(min(100, iters)):
        launch()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters):
            launch()
        best = min(best, (time.perf_counter() - t0) / iters * 1e6)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2000)
    args = ap.parse_args()
    x = np.zeros(16, dtype=np.float32)
    y = np.zeros(16, dtype=np.float32)
    grid = (1, 1, 1)
    results = {
        "benchmark": "launch_overhead",
        "device": "cpu-interpreter",
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "iters": args.iters,
        "us_per_launch": {
            "empty_4args_tuple_grid": per_launch_us(lambda: empty_kernel[grid](x, y, 16, 1.0, BLOCK=16), args.iters),
            "empty_4args_lambda_grid": per_launch_us(
                lambda: empty_kernel[lambda m: (1,)](x, y, 16, 1.0, BLOCK=16), args.iters),
            "tiny_load_store": per_launch_us(lambda: tiny_kernel[grid](x, 16, BLOCK=16), args.iters),
        },
    }
    try:
        import torch

        xt, yt = torch.zeros(16), torch.zeros(16)
        results["us_per_launch"]["empty_4args_torch_cpu"] = per_launch_us(
            lambda: empty_kernel[grid](xt, yt, 16, 1.0, BLOCK=16), args.iters)
    except ImportError:
        pass
    kernel = empty_kernel.warmup(x, y, 16, 1.0, BLOCK=16, grid=grid)
    launch_args = [(x.ctypes.data, x.nbytes), (y.ctypes.data, y.nbytes), 16, 1.0]
    results["us_per_launch"]["raw_C_kernel_launch"] = per_launch_us(lambda: kernel.launch(grid, launch_args),
                                                                      args.iters)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Loads run ahead in `for` loops (the CUDA emitter's register prefetch, EmitPipeline.cpp): the scan kernels
without it (num_stages=1), one iteration ahead (num_stages=2), two (3, the default) and four (5; deeper than
one only where the tiles are small, i.e. the sequential kernels), same source, same launch configuration; fwd
and bwd, sequential and chunked, bf16, B=4, D=5120 (the seed-002 grid's shape).

For each row: ms and effective GB/s (fwd moves x, a, h; bwd dout, a, h, dx, da) per num_stages, the speedup of
the default over num_stages=1, and whether all give bit-identical outputs (they must: only the timing of the
loads changes). Writes prefetch_ab.json to --out (default $OUT or bench/results) and prints one `summary` line
per direction and mode.

    python3 bench/prefetch_ab.py [--out DIR] [--quick]
    python3 bench/prefetch_ab.py --smoke            # CPU interpreter, tiny sizes: the script itself
"""

from __future__ import annotations

import argparse

import torch

import scan_common as common
import mini_triton.kernels.scan as kscan
from mini_triton.ops.scan import scan_backward, scan_forward

# (mode, chunk_t, chunk_d, num_warps): the defaults and the configurations scan_bench.py tends to pick
CONFIGS = [("sequential", None, 32, 1), ("sequential", None, 64, 2), ("sequential", None, 128, 4),
           ("chunked", 64, 32, 4), ("chunked", 128, 32, 4), ("chunked", 128, 32, 8), ("chunked", 256, 32, 8),
           ("chunked", 16, 32, 4)]


class _Staged:
    """A kernel whose launches pass num_stages."""

    def __init__(self, fn, stages):
        self.fn, self.stages = fn, stages

    def __getitem__(self, grid):
        launch = self.fn[grid]
        return lambda *args, **kw: launch(*args, num_stages=self.stages, **kw)


class StagedKernels:
    """The scan kernel module with every launch given num_stages (1: no prefetch)."""

    def __init__(self, module, stages):
        self.module, self.stages = module, stages

    def __getattr__(self, name):
        v = getattr(self.module, name)
        return _Staged(v, self.stages) if name.endswith("_kernel") else v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=common.default_out())
    ap.add_argument("--quick", action="store_true", help="one T, fewer repetitions")
    ap.add_argument("--smoke", action="store_true", help="CPU interpreter, tiny sizes")
    args = ap.parse_args()
    device = common.device_for(args.smoke)
    B, D = (2, 40) if args.smoke else (4, 5120)
    t_list = [24] if args.smoke else ([16384] if args.quick else [2048, 16384, 65536])
    target_ms = 5.0 if args.smoke else (40.0 if args.quick else 100.0)
    dtype = torch.float32 if args.smoke else torch.bfloat16
    configs = CONFIGS[:1] + CONFIGS[3:4] if args.smoke else CONFIGS
    stages = [1, 2, 3, 5]
    kernels = {s: StagedKernels(kscan, s) for s in stages}
    rows = []
    for T in t_list:
        g = torch.Generator(device=device).manual_seed(T)
        x = torch.randn(B, T, D, device=device, dtype=dtype, generator=g)
        a = torch.rand(B, T, D, device=device, dtype=dtype, generator=g)
        dout = torch.randn(B, T, D, device=device, dtype=dtype, generator=g)
        elem = x.element_size()
        for mode, ct, cd, nw in configs:
            for direction in ("fwd", "bwd"):
                def run(kernels):
                    if direction == "fwd":
                        return scan_forward(x, a, mode=mode, chunk_t=ct, chunk_d=cd, kernels=kernels, num_warps=nw)
                    return scan_backward(dout, a, x, mode=mode, chunk_t=ct, chunk_d=cd, kernels=kernels,
                                         num_warps=nw)
                moved = (3 if direction == "fwd" else 5) * B * T * D * elem
                row = {"T": T, "direction": direction, "mode": mode, "chunk_t": ct, "chunk_d": cd, "num_warps": nw}
                outs = {}
                for st in stages:
                    ms, out = common.bench(lambda: run(kernels[st]), device, target_ms=target_ms, keep=True)
                    outs[st] = out if isinstance(out, tuple) else (out,)
                    row[f"ms_s{st}"] = ms
                    row[f"gbps_s{st}"] = moved / (ms * 1e-3) / 1e9
                row["speedup"] = row["ms_s1"] / row["ms_s3"]
                row["identical"] = all(p is None and q is None or torch.equal(p, q)
                                       for st in stages[1:] for p, q in zip(outs[1], outs[st]))
                rows.append(row)
                common.log(f"T={T:6d} {direction} {mode:10s} ct={ct} cd={cd} w={nw}: GB/s "
                           + " ".join(f"s{st}={row[f'gbps_s{st}']:.0f}" for st in stages)
                           + f" (s3/s1 x{row['speedup']:.2f}){'' if row['identical'] else '  OUTPUTS DIFFER'}")
        del x, a, dout
        common.release(device)
    for direction in ("fwd", "bwd"):
        for mode in ("sequential", "chunked"):
            sel = [r for r in rows if r["direction"] == direction and r["mode"] == mode]
            if not sel:
                continue
            best = {st: max(sel, key=lambda r, st=st: r[f"gbps_s{st}"]) for st in stages}
            print(f"summary {direction} {mode}: best GB/s "
                  + ", ".join(f"num_stages={st}: {best[st][f'gbps_s{st}']:.0f} (T={best[st]['T']} "
                              f"ct={best[st]['chunk_t']} cd={best[st]['chunk_d']} w={best[st]['num_warps']})"
                              for st in stages)
                  + f"; all identical: {all(r['identical'] for r in sel)}")
    path = common.write_json(args.out, "prefetch_ab", {"meta": common.metadata(device, B=B, D=D, dtype=str(dtype)),
                                                       "rows": rows})
    print("wrote", path)
    if not all(r["identical"] for r in rows):
        raise SystemExit("ERROR: outputs with and without prefetch differ")


if __name__ == "__main__":
    main()

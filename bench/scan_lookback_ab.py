"""A/B timings of the lookback scan kernels (one program per chunk, carries passed between programs) for changes
to their source: each variant is a copy of mini_triton/kernels/scan.py, run by mini_triton (or, with
--compiler triton, by Triton 3.x), on B=4 D=5120 at the given T, forward and backward, fp16/bf16, with the
variants in turn in --rounds rounds (triton.testing.do_bench medians). Every case is first checked against a
float64 scan (the sequential kernel in float64 on the same inputs): relative error at most 1e-2, else exit 1.
Appends one JSON line per (variant, case) to --out/scan_lookback_ab.jsonl and prints a line each; effective
bandwidth as in scan_bench.py (fwd: x, a, h; bwd: dout, a, h, dx, da).

    python3 bench/scan_lookback_ab.py --variant new=python/mini_triton/kernels/scan.py --variant old=/tmp/old.py
    python3 bench/scan_lookback_ab.py --variant new=python/mini_triton/kernels/scan.py --dry-run   # CPU check
"""

import argparse
import json
import os
import statistics

import side_by_side as sbs
from kernel_source import load

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FWD_CONFIG, BWD_CONFIG = "64,32,2", "64,32,4"  # session 8's tuned lookback configs (chunk_t, chunk_d, warps)
DRY_CONFIG = "16,32,1"  # --dry-run: several chunks a column at its T = 37 and 64


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", action="append", required=True, help="LABEL=PATH of a copy of kernels/scan.py")
    ap.add_argument("--compiler", choices=("mini_triton", "triton"), default="mini_triton")
    ap.add_argument("--t", default="4096,8192,32768", help="sequence lengths")
    ap.add_argument("--dtypes", default="bf16,fp16")
    ap.add_argument("--fwd-config", help=f"chunk_t,chunk_d,num_warps (default {FWD_CONFIG})")
    ap.add_argument("--bwd-config", help=f"the same for the backward (default {BWD_CONFIG})")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dry-run", action="store_true", help="CPU interpreter, tiny shapes (a check of the script)")
    ap.add_argument("--out", default=os.environ.get("OUT", os.path.join(REPO, "bench", "results")))
    args = ap.parse_args()
    torch, dev, _ = sbs.environment("scan_lookback_ab", args.dry_run)
    time_fn, _ = sbs.timer(dev, torch)
    from mini_triton.ops.scan import scan_backward, scan_forward

    variants = {}
    for spec in args.variant:
        label, path = spec.split("=", 1)
        variants[label] = load(path, args.compiler)
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16}
    fwd_cfg = [int(v) for v in (args.fwd_config or (DRY_CONFIG if args.dry_run else FWD_CONFIG)).split(",")]
    bwd_cfg = [int(v) for v in (args.bwd_config or (DRY_CONFIG if args.dry_run else BWD_CONFIG)).split(",")]
    B, D = (2, 40) if args.dry_run else (4, 5120)
    ts = [37, 64] if args.dry_run else [int(t) for t in args.t.split(",")]

    cases = []  # (name, fn, bytes, label)
    failed = False
    for dname in args.dtypes.split(","):
        dtype = dtypes[dname]
        for T in ts:
            gen = torch.Generator(device=dev).manual_seed(T)
            x = torch.randn(B, T, D, device=dev, dtype=dtype, generator=gen)
            a = torch.rand(B, T, D, device=dev, dtype=dtype, generator=gen)
            dout = torch.randn(B, T, D, device=dev, dtype=dtype, generator=gen)
            h_ref = scan_forward(x.double(), a.double(), mode="sequential")
            dx_ref, da_ref = scan_backward(dout.double(), a.double(), h_ref, mode="sequential")[:2]
            h_saved = h_ref.to(dtype)
            for label, mod in variants.items():
                def fwd(mod=mod, x=x, a=a):
                    return scan_forward(x, a, mode="lookback", chunk_t=fwd_cfg[0], chunk_d=fwd_cfg[1],
                                        kernels=mod, num_warps=fwd_cfg[2])

                def bwd(mod=mod, dout=dout, a=a, h=h_saved):
                    return scan_backward(dout, a, h, mode="lookback", chunk_t=bwd_cfg[0], chunk_d=bwd_cfg[1],
                                         kernels=mod, num_warps=bwd_cfg[2])
                h = fwd()
                dx, da = bwd()[:2]
                errs = {"h": rel_err(h, h_ref), "dx": rel_err(dx, dx_ref),
                        "da": rel_err(da, scan_backward(dout.double(), a.double(), h_saved.double(),
                                                        mode="sequential")[1])}
                failed |= max(errs.values()) > 1e-2
                n = B * T * D * x.element_size()
                cases.append({"case": f"{dname} T{T} fwd", "fn": fwd, "bytes": 3 * n, "label": label,
                              "err": errs["h"], "config": fwd_cfg})
                cases.append({"case": f"{dname} T{T} bwd", "fn": bwd, "bytes": 5 * n, "label": label,
                              "err": max(errs["dx"], errs["da"]), "config": bwd_cfg})

    times = {id(c): [] for c in cases}
    for _ in range(args.rounds):
        for c in cases:
            times[id(c)].append(time_fn(c["fn"]))
    os.makedirs(args.out, exist_ok=True)
    device = torch.cuda.get_device_name() if dev == "cuda" else "cpu"
    with open(os.path.join(args.out, "scan_lookback_ab.jsonl"), "a") as f:
        for c in cases:
            ms = statistics.median(times[id(c)])
            line = {"label": c["label"], "compiler": args.compiler, "case": c["case"], "config": c["config"],
                    "ms": times[id(c)], "median_ms": ms, "gbps": c["bytes"] / (ms * 1e-3) / 1e9,
                    "rel_err": c["err"], "device": device}
            f.write(json.dumps(line) + "\n")
            print(f"{c['label']:>12s} {args.compiler:11s} {c['case']:16s} {ms:8.4f} ms {line['gbps']:7.0f} GB/s"
                  f"  err {c['err']:.1e}")
    raise SystemExit(1 if failed else 0)


def rel_err(got, ref):
    """max |got - ref| / max |ref|, in float64."""
    ref = ref.double()
    return ((got.double() - ref).abs().max() / ref.abs().max().clamp_min(1e-30)).item()


if __name__ == "__main__":
    main()

"""Linear-RNN scan precision, the seed-002 way: seeds [3407, 4, 42, 57], dtypes fp32 / bf16 / fp16, x and a drawn
from randn (as the seed does; --a-dist unit draws a from U(0.05, 0.95) instead), B=4, D=5120, T = 32 ... 131072;
the error of each kernel against a float64 reference computed from the same (rounded) inputs.

Kernels: mini_triton's sequential and chunked scans (accumulate in fp32, store in the input dtype), and, where
Triton is installed, the chunked scan's Triton twin (same source). Reference: rnn_scan_ref_blocked in float64
(products and sums only). To bound memory, every kernel and the reference run on column slices of --slice
columns (the columns of a scan are independent, so the states are exactly those of the full launch; the kernels
read the slices through their strides). Metrics per (dtype, T, kernel), averaged over the seeds as the seed does:
max_abs_err, plus mean_abs_err and max_abs_err / max |h|. Writes scan_precision.json and scan_precision.png.

    python3 bench/scan_precision.py [--out DIR] [--tmax 131072] [--quick]
    python3 bench/scan_precision.py --smoke      # CPU interpreter, tiny sizes
"""

from __future__ import annotations

import argparse
import time

import torch

import scan_common as common
import mini_triton.kernels.scan as kscan
from mini_triton.ops.scan import rnn_scan_ref_blocked, scan_forward

SEEDS = [3407, 4, 42, 57]


def inputs(B, T, D, dtype, seed, device, a_dist):
    torch.manual_seed(seed)
    x = torch.randn(B, T, D, dtype=dtype, device=device)
    a = torch.randn(B, T, D, dtype=dtype, device=device) if a_dist == "randn" else \
        (0.05 + 0.9 * torch.rand(B, T, D, device=device)).to(dtype)
    return x, a


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=common.default_out())
    ap.add_argument("--tmin", type=int, default=32)
    ap.add_argument("--tmax", type=int, default=131072)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--dim", type=int, default=5120)
    ap.add_argument("--slice", type=int, default=1024, help="columns per kernel launch and reference block")
    ap.add_argument("--dtypes", default="fp32,bf16,fp16")
    ap.add_argument("--a-dist", choices=("randn", "unit"), default="randn")
    ap.add_argument("--chunk-t", type=int, default=64)
    ap.add_argument("--chunk-d", type=int, default=32)
    ap.add_argument("--no-triton", action="store_true")
    ap.add_argument("--quick", action="store_true", help="every 2nd power of two")
    ap.add_argument("--smoke", action="store_true", help="CPU interpreter, tiny sizes, no Triton")
    args = ap.parse_args()
    if args.smoke:
        args.batch, args.dim, args.slice, args.tmin, args.tmax = 1, 6, 4, 8, min(args.tmax, 64)
        args.no_triton = True
    device = common.device_for(args.smoke)
    t_start = time.time()
    twin, twin_error = common.triton_kernels(kscan, not args.no_triton)
    kernels = [("mini_triton sequential", "sequential", None), ("mini_triton chunked", "chunked", None)]
    if twin is not None:
        kernels.append(("triton chunked", "chunked", twin))
    Ts = [2**k for k in range(32) if args.tmin <= 2**k <= args.tmax]
    if args.quick:
        Ts = sorted(set(Ts[::2] + [Ts[-1]]))
    B, D = args.batch, args.dim

    rows, errors = [], []
    for dt_name in args.dtypes.split(","):
        dtype = common.DTYPES[dt_name]
        for T in Ts:
            acc = {name: {"max_abs_err": 0.0, "mean_abs_err": 0.0, "rel_max_err": 0.0} for name, _, _ in kernels}
            try:
                for seed in SEEDS:
                    x, a = inputs(B, T, D, dtype, seed, device, args.a_dist)
                    per = {name: [0.0, 0.0, 0.0] for name, _, _ in kernels}  # max, sum, max |ref|
                    for c0 in range(0, D, args.slice):
                        xs, as_ = x[:, :, c0:c0 + args.slice], a[:, :, c0:c0 + args.slice]
                        ref = rnn_scan_ref_blocked(xs.double(), as_.double())
                        ref_max = ref.abs().max().item()
                        for name, mode, kmod in kernels:
                            h = scan_forward(xs, as_, mode=mode, chunk_t=args.chunk_t, chunk_d=args.chunk_d,
                                             kernels=kmod)
                            err = (h.double() - ref).abs_()
                            p = per[name]
                            p[0] = max(p[0], err.max().item())
                            p[1] += err.sum().item()
                            p[2] = max(p[2], ref_max)
                            del h, err
                        del ref
                    for name in per:
                        mx, total, ref_max = per[name]
                        acc[name]["max_abs_err"] += mx / len(SEEDS)
                        acc[name]["mean_abs_err"] += total / (B * T * D) / len(SEEDS)
                        acc[name]["rel_max_err"] += mx / max(ref_max, 1e-30) / len(SEEDS)
                    del x, a
                    common.release(device)
            except Exception as e:  # noqa: BLE001  (report and go on)
                errors.append({"dtype": dt_name, "T": T, "error": f"{type(e).__name__}: {e}"[:1000]})
                common.log(f"ERROR {errors[-1]}")
                common.release(device)
                continue
            for name, vals in acc.items():
                rows.append({"dtype": dt_name, "T": T, "kernel": name, **vals})
                common.log(f"{dt_name} T={T:6d} {name:22s} max_abs_err {vals['max_abs_err']:.3e} "
                           f"mean {vals['mean_abs_err']:.3e} rel {vals['rel_max_err']:.3e}")

    data = common.metadata(device, bench="scan_precision", B=B, D=D, T=Ts, seeds=SEEDS, dtypes=args.dtypes.split(","),
                           a_dist=args.a_dist, x_dist="randn", chunk_t=args.chunk_t, chunk_d=args.chunk_d,
                           slice_columns=args.slice, triton_twin=twin is not None, triton_twin_error=twin_error,
                           reference="rnn_scan_ref_blocked in float64 on the same rounded inputs",
                           metric="per seed over all (b, t, d), then the mean over the seeds", smoke=args.smoke,
                           rows=rows, errors=errors, wall_s=time.time() - t_start)
    name = "scan_precision" + ("_smoke" if args.smoke else "")
    path = common.write_json(args.out, name, data)
    png = plot(data, args.out, name)
    common.log(f"wrote {path}" + (f" and {png}" if png else " (no matplotlib: no PNG)"))
    return 0 if rows and not errors else 1


def plot(data, out_dir, name):
    plt = common.pyplot()
    if plt is None or not data["rows"]:
        return None
    import os
    colors = {"fp32": "tab:blue", "bf16": "tab:olive", "fp16": "tab:green"}
    markers = {"mini_triton sequential": "+", "mini_triton chunked": "x", "triton chunked": "3"}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, metric, label in ((axes[0], "max_abs_err", "max abs error (mean over seeds)"),
                              (axes[1], "rel_max_err", "max abs error / max |h|")):
        for dt in data["dtypes"]:
            for kernel, marker in markers.items():
                pts = sorted((r["T"], r[metric]) for r in data["rows"] if r["dtype"] == dt and r["kernel"] == kernel)
                if pts:
                    ax.scatter(*zip(*pts), color=colors.get(dt, "black"), marker=marker, label=f"{kernel} ({dt})")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("T (sequence length)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"linear-RNN scan vs float64 — B={data['B']}, D={data['D']}, x~randn, a~{data['a_dist']}, "
                 f"seeds {data['seeds']} — {data['device']} — {data['date']}", fontsize=9)
    fig.tight_layout()
    path = os.path.join(out_dir, name + ".png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    raise SystemExit(main())

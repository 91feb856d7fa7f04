"""Linear-RNN scan efficiency, the seed-002 grid: h_t = a_t h_{t-1} + x_t over (B=4, T, D=5120), T = 32 ... 131072
(powers of two), fp16 and bf16, forward and backward.

Columns: mini_triton's kernels (mini_triton.kernels.scan: sequential loop, chunked associative scan with one
program per column block, and "lookback": one program per chunk, carries passed between programs), the same
kernel source compiled by Triton (kernels.triton_twin), and the torch reference loop (rnn_scan_ref, autograd for
the backward; only up to --ref-tmax). Effective bandwidth = the bytes a scan must move / time: forward reads x, a
and writes h (3 tensors), backward reads dout, a, h and writes dx, da (5 tensors); "% copy" relates it to
torch's device-to-device copy_ measured in the same run. Before the grid, each kernel family picks its launch
configuration (chunk sizes, num_warps) from a small shared candidate list at T = --tune-t, the same list for
mini_triton and Triton. Writes scan_bench.json (device, date, versions, configs, rows) and scan_bench.png.

    python3 bench/scan_bench.py [--out DIR] [--tmax 131072] [--quick] [--no-triton]
    python3 bench/scan_bench.py --smoke          # CPU interpreter, tiny sizes, no Triton: end-to-end check
    TRITON_INTERPRET=1 python3 bench/scan_bench.py --smoke --triton   # + the Triton twin on Triton's interpreter
"""

from __future__ import annotations

import argparse
import time

import torch

import scan_common as common
import mini_triton.kernels.scan as kscan
from mini_triton.ops.scan import rnn_scan_ref, scan_backward, scan_forward

SEQ_CONFIGS = [(None, 32, 1), (None, 64, 2), (None, 128, 4)]  # (chunk_t, block_d, num_warps)
CHUNK_CONFIGS = [(16, 32, 4), (64, 32, 4), (128, 32, 4), (128, 32, 8), (256, 32, 8), (64, 64, 4), (128, 16, 4)]
# (chunk_t, chunk_d, num_warps); the same candidates for mini_triton and Triton
LOOKBACK_CONFIGS = [(32, 32, 1), (64, 32, 2), (128, 32, 4), (256, 32, 8), (64, 64, 4), (128, 64, 8), (128, 16, 2),
                    (32, 32, 2), (64, 32, 4), (128, 32, 8), (64, 64, 8)]
# the same, for the lookback kernels (one program per chunk: the chunk is the whole tile a program handles; 32
# or 16 elements a thread)
MODES = ("sequential", "chunked", "lookback")


def impl_list(twin):
    out = [("mini_triton", m, None) for m in MODES]
    if twin is not None:
        out += [("triton", m, twin) for m in MODES]
    return out


def run_fwd(mode, kernels, cfg, x, a):
    ct, cd, nw = cfg
    return scan_forward(x, a, mode=mode, chunk_t=ct, chunk_d=cd, kernels=kernels, num_warps=nw)


def run_bwd(mode, kernels, cfg, dout, a, h):
    ct, cd, nw = cfg
    return scan_backward(dout, a, h, mode=mode, chunk_t=ct, chunk_d=cd, kernels=kernels, num_warps=nw)


def make(B, T, D, dtype, device, seed=0):
    g = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn(B, T, D, device=device, dtype=dtype, generator=g)
    a = torch.rand(B, T, D, device=device, dtype=dtype, generator=g)
    return x, a


def tune(impls, B, T, D, dtype, device, target_ms, smoke):
    """{(impl, mode, direction): best (chunk_t, chunk_d, num_warps)} at one size, plus the tried timings."""
    x, a = make(B, T, D, dtype, device, seed=1)
    dout = torch.randn_like(x)
    chosen, tried = {}, []
    for name, mode, kernels in impls:
        cands = {"sequential": SEQ_CONFIGS, "chunked": CHUNK_CONFIGS, "lookback": LOOKBACK_CONFIGS}[mode]
        if smoke:
            cands = cands[:2]
        h = None
        for direction in ("fwd", "bwd"):
            best = None
            for cfg in cands:
                try:
                    if direction == "fwd":
                        ms = common.bench(lambda: run_fwd(mode, kernels, cfg, x, a), device, target_ms=target_ms)
                    else:
                        if h is None:
                            h = run_fwd(mode, None, (16, 32, None), x, a)
                        ms = common.bench(lambda: run_bwd(mode, kernels, cfg, dout, a, h), device,
                                          target_ms=target_ms)
                except Exception as e:  # noqa: BLE001  (a config the backend rejects: try the next)
                    tried.append({"impl": name, "mode": mode, "direction": direction, "config": cfg,
                                  "error": f"{type(e).__name__}: {e}"[:500]})
                    continue
                tried.append({"impl": name, "mode": mode, "direction": direction, "config": cfg, "ms": ms})
                if best is None or ms < best[0]:
                    best = (ms, cfg)
            chosen[(name, mode, direction)] = best[1] if best else cands[0]
            common.log(f"tune {name:11s} {mode:10s} {direction}: {chosen[(name, mode, direction)]}")
    return chosen, tried


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=common.default_out())
    ap.add_argument("--tmin", type=int, default=32)
    ap.add_argument("--tmax", type=int, default=131072)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--dim", type=int, default=5120)
    ap.add_argument("--dtypes", default="fp16,bf16")
    ap.add_argument("--ref-tmax", type=int, default=2048, help="largest T for the torch reference loop")
    ap.add_argument("--tune-t", type=int, default=4096)
    ap.add_argument("--no-tune", action="store_true")
    ap.add_argument("--no-triton", action="store_true")
    ap.add_argument("--target-ms", type=float, default=40.0, help="timed repetitions fill about this long")
    ap.add_argument("--max-call-s", type=float, default=1.5,
                    help="stop timing an implementation at larger T once one call took longer than this")
    ap.add_argument("--quick", action="store_true", help="every 4th power of two, fewer repetitions")
    ap.add_argument("--extra-chunk-configs", default="",
                    help="more chunked candidates, CHUNK_T:CHUNK_D:NUM_WARPS comma-separated (e.g. 16:32:1,32:32:1: "
                         "one warp keeps the strip-layout scan free of barriers)")
    ap.add_argument("--smoke", action="store_true", help="CPU interpreter, tiny sizes, no Triton")
    ap.add_argument("--triton", action="store_true", help="with --smoke: add the Triton column (TRITON_INTERPRET=1)")
    args = ap.parse_args()
    for cfg in filter(None, args.extra_chunk_configs.split(",")):
        CHUNK_CONFIGS.append(tuple(int(v) for v in cfg.split(":")))
    if args.smoke:
        args.batch, args.dim, args.tmin, args.tmax, args.ref_tmax = 1, 12, 8, min(args.tmax, 32), 32
        args.tune_t, args.target_ms, args.no_triton = 16, 1.0, not args.triton
    device = common.device_for(args.smoke)
    t_start = time.time()
    twin, twin_error = common.triton_kernels(kscan, not args.no_triton)
    impls = impl_list(twin)
    B, D = args.batch, args.dim
    Ts = [2**k for k in range(32) if args.tmin <= 2**k <= args.tmax]
    if args.quick:
        Ts = sorted(set(Ts[::4] + [Ts[-1]]))
        args.target_ms = min(args.target_ms, 25.0)
    dtypes = [common.DTYPES[d] for d in args.dtypes.split(",")]

    copy_bytes = min(B * args.tmax * D * 2, 4 << 30)
    copy = common.copy_gbps(device, copy_bytes)
    common.log(f"copy_ bandwidth ({copy_bytes / 2**30:.2f} GiB buffer): {copy:.0f} GB/s")
    if args.no_tune:
        chosen = {(n, m, d): ((None, 32, None) if m == "sequential" else (64, 32, None))
                  for n, m, _ in impls for d in ("fwd", "bwd")}
        tried = []
    else:
        chosen, tried = tune(impls, B, min(args.tune_t, args.tmax), D, dtypes[-1], device, args.target_ms,
                             args.smoke)

    rows, errors, too_slow = [], [], set()
    for dtype in dtypes:
        esize = torch.tensor([], dtype=dtype).element_size()
        for T in Ts:
            n_bytes = B * T * D * esize
            if 7 * n_bytes > common.free_bytes(device):
                errors.append({"dtype": str(dtype), "T": T, "error": "skipped: not enough device memory"})
                continue
            x, a = make(B, T, D, dtype, device, seed=T)
            dout = torch.randn_like(x)
            same_size_copy = common.copy_gbps(device, n_bytes, target_ms=args.target_ms / 2)
            h_ref = None
            for name, mode, kernels in impls + [("torch", "reference", None)]:
                if name == "torch" and T > args.ref_tmax:
                    continue
                if (name, mode) in too_slow:
                    continue
                for direction, n_tensors in (("fwd", 3), ("bwd", 5)):
                    row = {"dtype": str(dtype).replace("torch.", ""), "T": T, "B": B, "D": D, "impl": name,
                           "mode": mode, "direction": direction}
                    try:
                        if name == "torch":
                            fn = torch_ref_fn(direction, x, a, dout)
                        else:
                            cfg = chosen[(name, mode, direction)]
                            row["config"] = cfg
                            if direction == "fwd":
                                def fn(mode=mode, kernels=kernels, cfg=cfg):
                                    return run_fwd(mode, kernels, cfg, x, a)
                            else:  # the states h of any forward column will do as the saved input
                                h = h_ref if h_ref is not None else run_fwd("chunked", None, (64, 32, None), x, a)

                                def fn(mode=mode, kernels=kernels, cfg=cfg, h=h):
                                    return run_bwd(mode, kernels, cfg, dout, a, h)
                        ms, out = common.bench(fn, device, target_ms=args.target_ms, keep=True)
                        if direction == "fwd":  # agreement with the first implementation's states
                            if h_ref is None:
                                h_ref, ref_name = out, f"{name} {mode}"
                            else:
                                row["max_abs_diff"] = torch.sub(out, h_ref).abs_().max().item()
                                row["diff_against"] = ref_name
                        del out
                        gbps = n_tensors * n_bytes / (ms * 1e-3) / 1e9
                        row.update(ms=ms, gbps=gbps, pct_copy=100 * gbps / copy,
                                   pct_copy_same_size=100 * gbps / same_size_copy)
                        rows.append(row)
                        common.log(f"{row['dtype']} T={T:6d} {name:11s} {mode:10s} {direction}: {ms:9.3f} ms "
                                   f"{gbps:8.1f} GB/s ({row['pct_copy']:.0f}% of copy)")
                        if ms > args.max_call_s * 1e3:
                            too_slow.add((name, mode))
                    except Exception as e:  # noqa: BLE001  (report and go on)
                        row["error"] = f"{type(e).__name__}: {e}"[:1000]
                        errors.append(row)
                        common.log(f"ERROR {row}")
                    common.release(device)
            del x, a, dout, h_ref
            common.release(device)

    data = common.metadata(device, bench="scan_bench", B=B, D=D, T=Ts, dtypes=args.dtypes.split(","),
                           copy_gbps=copy, copy_buffer_bytes=copy_bytes, triton_twin=twin is not None,
                           triton_twin_error=twin_error, ref_tmax=args.ref_tmax, quick=args.quick, smoke=args.smoke,
                           bytes_model={"fwd": "3 * B*T*D*elsize (x, a in; h out)",
                                        "bwd": "5 * B*T*D*elsize (dout, a, h in; dx, da out)"},
                           configs={"/".join(k): v for k, v in chosen.items()}, tuning=tried, rows=rows,
                           errors=errors, wall_s=time.time() - t_start)
    path = common.write_json(args.out, "scan_bench" + ("_smoke" if args.smoke else ""), data)
    png = plot(data, args.out, "scan_bench" + ("_smoke" if args.smoke else ""))
    common.log(f"wrote {path}" + (f" and {png}" if png else " (no matplotlib: no PNG)"))
    summary(data)
    return 0 if rows and not any("skipped" not in e.get("error", "") for e in errors) else 1


def torch_ref_fn(direction, x, a, dout):
    if direction == "fwd":
        return lambda: rnn_scan_ref(x, a)
    xg, ag = x.detach().requires_grad_(), a.detach().requires_grad_()
    h = rnn_scan_ref(xg, ag)
    return lambda: torch.autograd.grad(h, (xg, ag), dout, retain_graph=True)


def summary(data):
    """Best chunked / lookback GB/s at T >= 4096 per implementation (the issue's target: >= 2500 GB/s)."""
    for impl in ("mini_triton", "triton"):
        for mode in ("chunked", "lookback"):
            for direction in ("fwd", "bwd"):
                sel = [r for r in data["rows"] if r["impl"] == impl and r["mode"] == mode
                       and r["direction"] == direction and r["T"] >= 4096]
                if sel:
                    best = max(sel, key=lambda r: r["gbps"])
                    common.log(f"summary {impl} {mode} {direction}: best {best['gbps']:.0f} GB/s at T>=4096 "
                               f"(min {min(r['gbps'] for r in sel):.0f}); copy {data['copy_gbps']:.0f} GB/s")


def plot(data, out_dir, name):
    plt = common.pyplot()
    if plt is None or not data["rows"]:
        return None
    import os
    dtypes = data["dtypes"]
    fig, axes = plt.subplots(len(dtypes), 2, figsize=(13, 4.8 * len(dtypes)), squeeze=False)
    styles = {("mini_triton", "sequential"): ("tab:blue", "--"), ("mini_triton", "chunked"): ("tab:blue", "-"),
              ("mini_triton", "lookback"): ("tab:purple", "-"),
              ("triton", "sequential"): ("tab:green", "--"), ("triton", "chunked"): ("tab:green", "-"),
              ("triton", "lookback"): ("tab:olive", "-"),
              ("torch", "reference"): ("tab:gray", ":")}
    label_dtype = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32", "fp64": "float64"}
    for i, dt in enumerate(dtypes):
        for j, direction in enumerate(("fwd", "bwd")):
            ax = axes[i][j]
            for (impl, mode), (color, ls) in styles.items():
                pts = sorted((r["T"], r["gbps"]) for r in data["rows"] if r["impl"] == impl and r["mode"] == mode
                             and r["direction"] == direction and r["dtype"] == label_dtype[dt])
                if pts:
                    ax.plot(*zip(*pts), color=color, linestyle=ls, marker="o", ms=3, label=f"{impl} {mode}")
            ax.axhline(data["copy_gbps"], color="black", lw=0.8, label="torch copy_")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("T (sequence length)")
            ax.set_ylabel("effective GB/s")
            ax.set_title(f"{direction}, {dt}, B={data['B']}, D={data['D']}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(f"linear-RNN scan — {data['device']} — {data['date']}", fontsize=10)
    fig.tight_layout()
    path = os.path.join(out_dir, name + ".png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    raise SystemExit(main())

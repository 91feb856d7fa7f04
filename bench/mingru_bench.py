"""MinGRU forward + backward throughput: mini_triton's chunked scan (mingru_chunked, both backward modes), the
same kernel source under Triton, and pure PyTorch: the paper's log-space parallel form (logcumsumexp, "Were
RNNs all we needed?") and, for short T, the plain loop.

The timed unit is the MinGRU core of a layer: given the two projections k = W_z x and h~ = W_h x of shape
(B, T, D), the log-space gates log a = -softplus(k), log b = -softplus(-k) + log g(h~) and the states h
(B, T, D); forward, then gradients for k and h~ from a random dL/dh. Every implementation computes the same h
(mini_triton's exponentiates the gates and runs h_t = a_t h_{t-1} + b_t). Reports ms and tokens/s (B*T per
second) for forward and forward+backward, and each h's largest difference from the log-space form in float64.
Writes mingru_bench.json and mingru_bench.png.

    python3 bench/mingru_bench.py [--out DIR] [--tmax 16384] [--dim 5120]
    python3 bench/mingru_bench.py --smoke        # CPU interpreter, tiny sizes, no Triton
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

import scan_common as common
import mini_triton.kernels.scan as kscan
from mini_triton.ops.mingru import log_g, mingru_chunked, mingru_log_space_reference, mingru_reference


def gates(k, ht):
    return torch.exp(-F.softplus(k)), torch.exp(-F.softplus(-k) + log_g(ht))


def tuned(path, impl, mode="chunked"):
    """(chunk_t, chunk_d, num_warps) that scan_bench.py chose for `impl`'s `mode` forward, or None."""
    try:
        with open(path) as f:
            return tuple(json.load(f)["configs"][f"{impl}/{mode}/fwd"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def implementations(args, twin):
    ours = tuned(args.configs_from, "mini_triton") if args.configs_from else None
    theirs = tuned(args.configs_from, "triton") if args.configs_from else None
    lb = tuned(args.configs_from, "mini_triton", "lookback") if args.configs_from else None
    ct, cd, nw = ours or (args.chunk_t, args.chunk_d, None)
    tct, tcd, tnw = theirs or (args.chunk_t, args.chunk_d, None)
    lct, lcd, lnw = lb or (args.chunk_t, args.chunk_d, None)
    args.used_configs = {"mini_triton": [ct, cd, nw], "triton": [tct, tcd, tnw],
                         "mini_triton lookback": [lct, lcd, lnw]}
    impls = {
        "mini_triton (scan bwd)": lambda k, ht: mingru_chunked(*gates(k, ht), ct, cd, backward_use_scan=True,
                                                               num_warps=nw, lookback=False),
        "mini_triton (loop bwd)": lambda k, ht: mingru_chunked(*gates(k, ht), ct, cd, backward_use_scan=False,
                                                               num_warps=nw, lookback=False),
        "mini_triton (lookback)": lambda k, ht: mingru_chunked(*gates(k, ht), lct, lcd, backward_use_scan=True,
                                                               num_warps=lnw, lookback=True),
    }
    if twin is not None:
        impls["triton (scan bwd)"] = lambda k, ht: mingru_chunked(*gates(k, ht), tct, tcd, backward_use_scan=True,
                                                                  kernels=twin, num_warps=tnw, lookback=False)
    impls["torch log-space"] = mingru_log_space_reference
    impls["torch loop"] = lambda k, ht: mingru_reference(*gates(k, ht))
    return impls


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=common.default_out())
    ap.add_argument("--tmin", type=int, default=256)
    ap.add_argument("--tmax", type=int, default=16384)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--dim", type=int, default=5120)
    ap.add_argument("--dtypes", default="fp32,bf16")
    ap.add_argument("--chunk-t", type=int, default=64)
    ap.add_argument("--chunk-d", type=int, default=32)
    ap.add_argument("--configs-from", help="scan_bench.json: use its tuned chunked configs (chunk_t, chunk_d, "
                    "num_warps) instead of --chunk-t/--chunk-d")
    ap.add_argument("--loop-tmax", type=int, default=1024, help="largest T for the torch loop")
    ap.add_argument("--target-ms", type=float, default=60.0)
    ap.add_argument("--no-triton", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="CPU interpreter, tiny sizes, no Triton")
    args = ap.parse_args()
    if args.smoke:
        args.batch, args.dim, args.tmin, args.tmax, args.loop_tmax = 1, 10, 4, min(args.tmax, 32), 32
        args.target_ms, args.no_triton, args.chunk_t, args.chunk_d = 1.0, True, 8, 8
    device = common.device_for(args.smoke)
    t_start = time.time()
    twin, twin_error = common.triton_kernels(kscan, not args.no_triton)
    impls = implementations(args, twin)
    B, D = args.batch, args.dim
    Ts = [4**k for k in range(16) if args.tmin <= 4**k <= args.tmax]
    rows, errors = [], []
    for dt_name in args.dtypes.split(","):
        dtype = common.DTYPES[dt_name]
        for T in Ts:
            g = torch.Generator(device=device).manual_seed(T)
            k = torch.randn(B, T, D, device=device, dtype=dtype, generator=g).requires_grad_()
            ht = torch.randn(B, T, D, device=device, dtype=dtype, generator=g).requires_grad_()
            dout = torch.randn(B, T, D, device=device, dtype=dtype, generator=g)
            with torch.no_grad():
                h_ref = mingru_log_space_reference(k.double(), ht.double())
            for name, fn in impls.items():
                if name == "torch loop" and T > args.loop_tmax:
                    continue
                row = {"dtype": dt_name, "T": T, "B": B, "D": D, "impl": name}
                try:
                    def fwd(fn=fn):
                        with torch.no_grad():
                            return fn(k, ht)

                    def fwd_bwd(fn=fn):
                        return torch.autograd.grad(fn(k, ht), (k, ht), dout)
                    row["fwd_ms"] = common.bench(fwd, device, target_ms=args.target_ms)
                    row["fwd_bwd_ms"] = common.bench(fwd_bwd, device, target_ms=args.target_ms)
                    h = fwd()
                    row["max_abs_diff_vs_fp64"] = (h.double() - h_ref).abs().max().item()
                    del h
                    row["fwd_tokens_per_s"] = B * T / (row["fwd_ms"] * 1e-3)
                    row["fwd_bwd_tokens_per_s"] = B * T / (row["fwd_bwd_ms"] * 1e-3)
                    rows.append(row)
                    common.log(f"{dt_name} T={T:6d} {name:24s} fwd {row['fwd_ms']:8.3f} ms  fwd+bwd "
                               f"{row['fwd_bwd_ms']:8.3f} ms  {row['fwd_bwd_tokens_per_s'] / 1e6:8.2f} Mtok/s  "
                               f"err {row['max_abs_diff_vs_fp64']:.2e}")
                except Exception as e:  # noqa: BLE001  (report and go on)
                    row["error"] = f"{type(e).__name__}: {e}"[:1000]
                    errors.append(row)
                    common.log(f"ERROR {row}")
                common.release(device)
            del k, ht, dout, h_ref
            common.release(device)
    for r in rows:  # speed-up of the mini_triton scan over the torch log-space form, same dtype and T
        base = [q for q in rows if q["impl"] == "torch log-space" and q["dtype"] == r["dtype"] and q["T"] == r["T"]]
        if base:
            r["fwd_bwd_speedup_vs_torch_log_space"] = base[0]["fwd_bwd_ms"] / r["fwd_bwd_ms"]
    data = common.metadata(device, bench="mingru_bench", B=B, D=D, T=Ts, dtypes=args.dtypes.split(","),
                           configs=args.used_configs, triton_twin=twin is not None,
                           triton_twin_error=twin_error, unit="MinGRU core: (k, h~) -> log-space gates -> h; "
                           "fwd+bwd = forward + gradients for k and h~", smoke=args.smoke, rows=rows,
                           errors=errors, wall_s=time.time() - t_start)
    name = "mingru_bench" + ("_smoke" if args.smoke else "")
    path = common.write_json(args.out, name, data)
    png = plot(data, args.out, name)
    common.log(f"wrote {path}" + (f" and {png}" if png else " (no matplotlib: no PNG)"))
    return 0 if rows and not errors else 1


def plot(data, out_dir, name):
    plt = common.pyplot()
    if plt is None or not data["rows"]:
        return None
    import os
    dtypes = data["dtypes"]
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6.5 * len(dtypes), 4.8), squeeze=False)
    for ax, dt in zip(axes[0], dtypes):
        for impl in dict.fromkeys(r["impl"] for r in data["rows"]):
            pts = sorted((r["T"], r["fwd_bwd_tokens_per_s"] / 1e6) for r in data["rows"]
                         if r["impl"] == impl and r["dtype"] == dt)
            if pts:
                ax.plot(*zip(*pts), marker="o", ms=3, label=impl,
                        linestyle="-" if impl.startswith(("mini", "triton")) else ":")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("T (sequence length)")
        ax.set_ylabel("forward+backward, million tokens/s")
        ax.set_title(f"MinGRU core, {dt}, B={data['B']}, D={data['D']}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{data['device']} — {data['date']}", fontsize=9)
    fig.tight_layout()
    path = os.path.join(out_dir, name + ".png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    raise SystemExit(main())

"""`mini_triton.testing`: benchmarking and comparison helpers with Triton's signatures."""

from __future__ import annotations

import statistics
import time

import numpy as np


def _synchronize():
    torch = _torch()
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _torch():
    import sys
    return sys.modules.get("torch")


def do_bench(fn, warmup=25, rep=100, grad_to_none=None, quantiles=None, return_mode="mean"):
    """Runs `fn` for about `warmup` ms, then about `rep` ms, and returns its time per call in ms: the
    `quantiles` of the samples if given, else the `return_mode` statistic ("min", "max", "mean", "median",
    "all")."""
    if return_mode not in ("min", "max", "mean", "median", "all"):
        raise ValueError(f"do_bench: unknown return_mode {return_mode!r}")
    fn()
    _synchronize()
    # Estimate the time of one call from a few calls.
    start = time.perf_counter()
    n_est = 0
    while n_est < 5 and (n_est == 0 or time.perf_counter() - start < 0.05):
        fn()
        n_est += 1
    _synchronize()
    estimate_ms = (time.perf_counter() - start) * 1000.0 / n_est
    n_warmup = max(1, int(warmup / max(estimate_ms, 1e-6)))
    n_repeat = max(1, int(rep / max(estimate_ms, 1e-6)))
    n_warmup = min(n_warmup, 1000)
    n_repeat = min(n_repeat, 10000)
    for _ in range(n_warmup):
        fn()
    _synchronize()
    times = []
    for _ in range(n_repeat):
        if grad_to_none is not None:
            for x in grad_to_none:
                x.grad = None
        t0 = time.perf_counter()
        fn()
        _synchronize()
        times.append((time.perf_counter() - t0) * 1000.0)
    if quantiles is not None:
        ret = [float(q) for q in np.quantile(np.array(times), list(quantiles))]
        return ret[0] if len(ret) == 1 else ret
    if return_mode == "all":
        return times
    return {"min": min, "max": max, "mean": statistics.fmean, "median": statistics.median}[return_mode](times)


def _to_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach()
        if hasattr(x, "cpu"):
            x = x.cpu()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        return x.numpy()
    return np.asarray(x)


def assert_close(x, y, atol=None, rtol=None, err_msg=""):
    """Asserts |x - y| <= atol + rtol * |y| elementwise (NumPy arrays, torch tensors or scalars)."""
    x, y = _to_numpy(x), _to_numpy(y)
    atol = 1e-2 if atol is None else atol
    rtol = 0.0 if rtol is None else rtol
    if x.dtype == np.bool_ or y.dtype == np.bool_:
        np.testing.assert_array_equal(x, y, err_msg=err_msg)
        return
    np.testing.assert_allclose(x.astype(np.float64), y.astype(np.float64), atol=atol, rtol=rtol, err_msg=err_msg,
                               equal_nan=True)


def do_bench_cudagraph(fn, rep=20, grad_to_none=None, quantiles=None, return_mode="mean"):
    """Triton's CUDA-graph variant; without CUDA graphs it is do_bench."""
    return do_bench(fn, warmup=max(1, rep // 4), rep=rep, grad_to_none=grad_to_none, quantiles=quantiles,
                    return_mode=return_mode)


class Benchmark:
    """One benchmark table for `perf_report`: `x_names` take `x_vals`; one line per `line_vals` value of
    argument `line_arg`; the decorated function returns ms (or a (ms, min, max) tuple) per point."""

    def __init__(self, x_names, x_vals, line_arg, line_vals, line_names, plot_name, args=None, xlabel="",
                 ylabel="", x_log=False, y_log=False, styles=None, color=None):
        self.x_names = list(x_names)
        self.x_vals = list(x_vals)
        self.line_arg = line_arg
        self.line_vals = list(line_vals)
        self.line_names = list(line_names)
        self.plot_name = plot_name
        self.args = dict(args or {})
        self.xlabel, self.ylabel = xlabel, ylabel
        self.x_log, self.y_log = x_log, y_log
        self.styles = styles


class Mark:
    def __init__(self, fn, benchmarks):
        self.fn = fn
        self.benchmarks = benchmarks

    def _run(self, bench, print_data, save_path):
        rows = []
        for x in bench.x_vals:
            xs = x if isinstance(x, (list, tuple)) else [x] * len(bench.x_names)
            xargs = dict(zip(bench.x_names, xs))
            row = list(xs)
            for line in bench.line_vals:
                r = self.fn(**xargs, **{bench.line_arg: line}, **bench.args)
                row.append(r[0] if isinstance(r, (list, tuple)) else r)
            rows.append(row)
        header = bench.x_names + bench.line_names
        if print_data:
            print(bench.plot_name + ":")
            print("  ".join(f"{h:>14}" for h in header))
            for row in rows:
                print("  ".join(f"{v:>14.6g}" if isinstance(v, float) else f"{v!s:>14}" for v in row))
        if save_path:
            import csv
            import os
            os.makedirs(save_path, exist_ok=True)
            with open(os.path.join(save_path, f"{bench.plot_name}.csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows(rows)
        return header, rows

    def run(self, show_plots=False, print_data=False, save_path="", return_df=False, **kwargs):
        benches = self.benchmarks if isinstance(self.benchmarks, list) else [self.benchmarks]
        out = [self._run(b, print_data, save_path) for b in benches]
        if return_df:
            return out if len(out) > 1 else out[0]
        return None


def perf_report(benchmarks):
    """Decorator: `@perf_report(Benchmark(...))` then `fn.run(print_data=True)` prints a table (no plots)."""
    return lambda fn: Mark(fn, benchmarks)

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

"""Shared pieces of the scan benchmarks (scan_bench.py, scan_precision.py, mingru_bench.py): the device, the
run's metadata, timing, the Triton twin of the kernel module, and writing JSON + PNG.

Each script has a CPU `--smoke` mode (tiny sizes, the interpreter, no Triton column) that runs it end to end.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "fp64": torch.float64}


def default_out() -> str:
    return os.environ.get("OUT") or os.path.join(REPO, "bench", "results")


def device_for(smoke: bool) -> torch.device:
    if smoke:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU: run with --smoke for the CPU check")
    return torch.device("cuda")


def metadata(device: torch.device, **extra) -> dict:
    import mini_triton
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
            "device_type": device.type, "host": platform.node(), "python": platform.python_version(),
            "versions": {"torch": torch.__version__, "mini_triton": mini_triton.__version__,
                         "cuda": torch.version.cuda, "triton": triton_version()},
            "timing": timing(device)}
    meta.update(extra)
    return meta


def triton_version():
    try:
        import triton
        return getattr(triton, "__version__", "?")
    except ImportError:
        return None


def triton_kernels(module, enabled: bool):
    """The Triton twin of a mini_triton kernel module (same source, real Triton), or (None, reason)."""
    if not enabled:
        return None, "disabled"
    try:
        from mini_triton.kernels import triton_twin
        return triton_twin(module), None
    except Exception as e:  # noqa: BLE001  (no Triton here: the column is left out)
        return None, f"{type(e).__name__}: {e}"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _do_bench():
    try:
        import triton.testing
        return triton.testing.do_bench
    except ImportError:
        return None


def timing(device) -> str:
    """How bench() times on `device` (for the JSON files)."""
    if device.type != "cuda":
        return "one perf_counter call after one warm-up call (CPU interpreter)"
    if _do_bench() is not None:
        return ("triton.testing.do_bench median (seed 002's timer: calls queued back to back, L2 cleared between "
                "them), warm-up min(25, target) ms, repetitions for about target_ms, after one untimed call")
    return "median of CUDA-event timed single calls after one warm-up call (no Triton: no do_bench)"


def bench(fn, device, *, target_ms=100.0, max_reps=50, keep=False):
    """Median ms of fn() after one untimed call (it compiles). On the GPU with Triton installed:
    triton.testing.do_bench, the timer of seed 002's benchmark (linear-rnn's rnn_scan_efficiency.py) and of
    the other side-by-side benches; it queues the calls, so the host's launch overhead is hidden as in a
    training loop. Otherwise CUDA events around single calls, each from an idle GPU (on the H100, 2026-12-07,
    100-150 us a call more than do_bench for the lookback scans, of which the host's Python part is about
    30 us), or perf_counter on the CPU: one timed call estimates the time; further repetitions fill about target_ms (at most max_reps;
    none when the estimate alone is over 2 * target_ms, so that slow columns cost two calls). keep=True
    returns (ms, a call's result)."""
    out = fn()
    sync(device)
    do_bench = _do_bench() if device.type == "cuda" else None
    if do_bench is not None:
        if not keep:
            del out
        ms = do_bench(fn, warmup=min(25.0, target_ms), rep=target_ms, return_mode="median")
        return (ms, out) if keep else ms
    if device.type != "cuda":
        del out
        t0 = time.perf_counter()
        out = fn()
        ms = (time.perf_counter() - t0) * 1e3
        return (ms, out) if keep else ms
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    reps = 1
    while len(times) < reps:
        del out
        start.record()
        out = fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
        if len(times) == 1 and times[0] < 2 * target_ms:
            reps = int(max(3, min(max_reps, target_ms / max(times[0], 1e-3))))
    ms = statistics.median(times)
    return (ms, out) if keep else ms


def copy_gbps(device, n_bytes: int, target_ms=100.0) -> float:
    """Device-to-device copy bandwidth with torch's copy_: (read + write) bytes / time."""
    n = max(1, n_bytes // 2)
    src = torch.empty(n, dtype=torch.float16, device=device).uniform_()
    dst = torch.empty_like(src)
    ms = bench(lambda: dst.copy_(src), device, target_ms=target_ms)
    del src, dst
    return 2 * n * 2 / (ms * 1e-3) / 1e9


def free_bytes(device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    return 1 << 34


def release(device):
    if device.type == "cuda":
        torch.cuda.empty_cache()


def write_json(out_dir: str, name: str, data: dict) -> str:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    return path


def pyplot():
    """matplotlib.pyplot with a file backend, or None when matplotlib is missing (the PNG is then skipped)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def log(*args):
    print(*args, file=sys.stderr, flush=True)

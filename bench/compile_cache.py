"""Cold compile vs disk-cache hit: the e2e kernels of examples/kernels (vector add, softmax, matmul, attention)
launched once on torch CUDA tensors through the Python API, each in a fresh process (so the Context's
in-memory cache is empty): first with an empty MINI_TRITON_CACHE_DIR (cold: frontend + emitter + NVRTC +
module load), then again on the filled directory (disk hit: cache read + module load). Prints one JSON object
and writes it to <dir>/compile_cache.json with --out <dir> (default: $OUT when set):

    {"benchmark": "compile_cache", "device": ..., "date": ..., "kernels": {"matmul": {"cold_ms": ...,
     "hit_ms": ..., "speedup": ..., "cold_compile_ms": ..., "hit_lookup_ms": ..., ...}, ...}}

cold_ms/hit_ms: wall time of the first launch in the process (compile or cache hit, module load, launch,
synchronize; the process has already initialised CUDA and compiled an unrelated kernel). cold_compile_ms,
hit_lookup_ms: what the C++ runtime logs (MINI_TRITON_CACHE_LOG=1) for the kernel itself. Medians of --reps.
Without torch, a CUDA GPU or mini_triton's GPU support it prints {"skipped": reason} and exits 0.

    python3 bench/compile_cache.py [--reps 3] [--kernels vector_add,softmax,matmul,attention] [--out DIR]
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = ("vector_add", "softmax", "matmul", "attention")
LOG_LINE = re.compile(r"mini_triton cache: (hit|miss) (\S+) (\S+) ([0-9.]+) ms"
                      r"(?: \(frontend ([0-9.]+) ms, nvrtc ([0-9.]+) ms\))?")


OUT_DIR = os.environ.get("OUT")  # --out overrides


def emit(result):
    text = json.dumps(result, indent=2)
    if OUT_DIR:
        os.makedirs(OUT_DIR, exist_ok=True)
        with open(os.path.join(OUT_DIR, "compile_cache.json"), "w") as f:
            f.write(text + "\n")
    print(text)


def skip(reason):
    emit({"benchmark": "compile_cache", "skipped": reason})
    sys.exit(0)


# ---- child: one process, one kernel, one first launch -------------------------------------------------------

def load_kernel(name):
    """examples/kernels/<name>.py imported as is, its `import triton` bound to mini_triton (the source file
    stays where it is, so that the cache key, which includes the file name, is the same in every process)."""
    import importlib.util
    import mini_triton
    import mini_triton.language
    sys.modules["triton"] = mini_triton
    sys.modules["triton.language"] = mini_triton.language
    path = os.path.join(REPO, "examples", "kernels", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"mt_bench_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def launcher(name, torch):
    """A function that launches kernel `name` once on CUDA tensors."""
    import mini_triton as triton
    dev = "cuda"
    if name == "vector_add":
        k = load_kernel(name).add_kernel
        n = 1 << 20
        x, y = torch.rand(n, device=dev), torch.rand(n, device=dev)
        out = torch.empty_like(x)
        return lambda: k[(triton.cdiv(n, 1024),)](x, y, out, n, BLOCK_SIZE=1024)
    if name == "softmax":
        k = load_kernel(name).softmax_kernel
        rows, cols = 128, 781
        x = torch.randn(rows, cols, device=dev)
        out = torch.empty_like(x)
        return lambda: k[(rows,)](out, x, x.stride(0), out.stride(0), cols,
                                  BLOCK_SIZE=triton.next_power_of_2(cols))
    if name == "matmul":
        k = load_kernel(name).matmul_kernel
        M = N = K = 256
        a, b = torch.rand(M, K, device=dev), torch.rand(K, N, device=dev)
        c = torch.empty(M, N, device=dev)
        grid = (triton.cdiv(M, 64) * triton.cdiv(N, 64),)
        return lambda: k[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0),
                               c.stride(1), BLOCK_SIZE_M=64, BLOCK_SIZE_N=64, BLOCK_SIZE_K=32, GROUP_SIZE_M=8,
                               OUTPUT_FP16=False)
    if name == "attention":
        k = load_kernel(name).attn_fwd_kernel
        Z, H, S, D = 2, 3, 131, 64
        q, kk, v = (torch.randn(Z, H, S, D, device=dev) for _ in range(3))
        o = torch.empty_like(q)
        return lambda: k[(triton.cdiv(S, 32), Z * H)](q, kk, v, o, D ** -0.5, q.stride(0), q.stride(1), q.stride(2),
                                                      q.stride(3), H, S, HEAD_DIM=D, BLOCK_M=32, BLOCK_N=32,
                                                      CAUSAL=True)
    raise SystemExit(f"unknown kernel {name}")


def child(name):
    import torch
    import mini_triton as triton
    import mini_triton.language as tl

    @triton.jit
    def warmup_kernel(x_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1.0, mask=offs < n)

    # CUDA, the driver binding, NVRTC's library and the Context are initialised before the measurement.
    w = torch.zeros(16, device="cuda")
    warmup_kernel[(1,)](w, 16, BLOCK=16)
    torch.cuda.synchronize()
    launch = launcher(name, torch)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    launch()
    torch.cuda.synchronize()
    first = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    launch()
    torch.cuda.synchronize()
    second = (time.perf_counter() - t0) * 1e3
    print(json.dumps({"first_launch_ms": first, "second_launch_ms": second}))


# ---- parent ---------------------------------------------------------------------------------------------------

def run_child(name, cache_dir):
    env = dict(os.environ, MINI_TRITON_CACHE_DIR=cache_dir, MINI_TRITON_CACHE_LOG="1")
    env.pop("MINI_TRITON_CACHE_DISABLE", None)
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name], env=env, capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"child for {name} failed (rc {r.returncode}):\n{r.stdout}\n{r.stderr}")
    timing = json.loads(r.stdout.strip().splitlines()[-1])
    logs = [m for m in (LOG_LINE.search(line) for line in r.stderr.splitlines()) if m and m.group(2) != "warmup_kernel"]
    return timing, logs


def median(xs):
    return round(statistics.median(xs), 3) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--kernels", default=",".join(KERNELS))
    ap.add_argument("--out", help="folder for compile_cache.json (default: $OUT)")
    ap.add_argument("--child")
    args = ap.parse_args()
    global OUT_DIR
    if args.out:
        OUT_DIR = args.out
    if args.child:
        return child(args.child)

    try:
        import torch
    except ImportError:
        skip("torch is not installed")
    if not torch.cuda.is_available():
        skip("no CUDA GPU (torch.cuda.is_available() is False)")
    try:
        from mini_triton import _ext
        ok, why = _ext._C.cuda_available()
    except Exception as e:  # noqa: BLE001  (an extension that fails to load is a reason to skip, reported)
        skip(f"mini_triton does not load: {e}")
    if not ok:
        skip(f"mini_triton cannot use the GPU: {why}")

    result = {
        "benchmark": "compile_cache",
        "device": torch.cuda.get_device_name(0),
        "host": platform.node(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "reps": args.reps,
        "kernels": {},
    }
    root = tempfile.mkdtemp(prefix="mt_compile_cache_")
    try:
        for name in args.kernels.split(","):
            cold, hit, mem, cold_log, nvrtc_log, hit_log, entry_bytes = [], [], [], [], [], [], 0
            for rep in range(args.reps):
                cache_dir = os.path.join(root, f"{name}_{rep}")
                t, logs = run_child(name, cache_dir)
                cold.append(t["first_launch_ms"])
                mem.append(t["second_launch_ms"])
                for m in logs:
                    if m.group(1) == "miss":
                        cold_log.append(float(m.group(4)))
                        if m.group(6):
                            nvrtc_log.append(float(m.group(6)))
                t, logs = run_child(name, cache_dir)
                hit.append(t["first_launch_ms"])
                for m in logs:
                    if m.group(1) == "hit":
                        hit_log.append(float(m.group(4)))
                    else:
                        raise RuntimeError(f"{name}: the second process missed the disk cache: {m.group(0)}")
                entry_bytes = sum(os.path.getsize(os.path.join(cache_dir, f)) for f in os.listdir(cache_dir))
            c, h = median(cold), median(hit)
            result["kernels"][name] = {
                "cold_ms": c,
                "hit_ms": h,
                "speedup": round(c / h, 1) if c and h else None,
                "memory_hit_launch_ms": median(mem),
                "cold_compile_ms": median(cold_log),
                "cold_nvrtc_ms": median(nvrtc_log),
                "hit_lookup_ms": median(hit_log),
                "cache_dir_bytes": entry_bytes,
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    emit(result)


if __name__ == "__main__":
    main()

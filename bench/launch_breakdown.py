"""Where the time of one mini_triton launch from Python goes, on CUDA tensors (needs a GPU and torch):
the whole `kernel[grid](...)` call, and its parts measured alone: argument classification (C++), torch's
current-stream query, and the C++ launch (cuLaunchKernel) with ready arguments. Also Triton's own launch of
the same empty kernel, for comparison. Prints one JSON object (microseconds per call, best of 5 x N).
Batches of 400 launches with the queue drained in between: 2000 back-to-back launches filled the GPU's
launch queue, so an earlier version measured the GPU's throughput of empty kernels (torch's x.add_(0): 9.7 us)."""

import json
import sys
import time


def best_us(fn, iters=400, reps=10):
    """Host microseconds per call: batches shorter than the GPU's launch queue (about 1000 entries), the
    queue drained between batches, so that the GPU's own throughput of empty kernels does not set the pace."""
    import torch
    best = float("inf")
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters * 1e6)
    return best


def main():
    import torch
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no CUDA GPU"}))
        return 0
    import mini_triton as mt
    import mini_triton.language as mtl
    import importlib
    mtjit = importlib.import_module("mini_triton.jit")

    @mt.jit
    def empty(x_ptr, y_ptr, n, BLOCK: mtl.constexpr):
        pass

    x = torch.empty(1024, device="cuda")
    y = torch.empty(1024, device="cuda")
    out = {"device": torch.cuda.get_device_name()}
    launch = empty[(1,)]
    for _ in range(100):
        launch(x, y, 1024, BLOCK=128)
    torch.cuda.synchronize()
    out["mini_triton_call_us"] = best_us(lambda: launch(x, y, 1024, BLOCK=128))
    torch.cuda.synchronize()
    kinds, ptr_keys = empty._kinds, mtjit._ptr_keys
    tensor_type = mtjit._tensor_type or mtjit._find_tensor_type()
    bound = (x, y, 1024, 128)
    out["classify_us"] = best_us(lambda: mtjit._classify(bound, kinds, ptr_keys, mtjit._ndarray, tensor_type))
    out["current_stream_us"] = best_us(mtjit._current_stream)
    key, args = mtjit._classify(bound, kinds, ptr_keys, mtjit._ndarray, tensor_type)
    entry = next(iter(empty.cache.values()))
    kernel, select = entry[0], entry[1]
    if select is not None:
        args = [args[j] for j in select]
    stream = mtjit._current_stream()
    out["cxx_launch_us"] = best_us(lambda: kernel.launch((1, 1, 1), args, stream))
    torch.cuda.synchronize()
    out["torch_empty_op_us"] = best_us(lambda: x.add_(0.0))
    try:
        global tl  # Triton resolves the kernel's names in its module globals
        import triton
        import triton.language as tl

        @triton.jit
        def tempty(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
            pass

        tl_launch = tempty[(1,)]
        for _ in range(100):
            tl_launch(x, y, 1024, BLOCK=128)
        torch.cuda.synchronize()
        out["triton_call_us"] = best_us(lambda: tl_launch(x, y, 1024, BLOCK=128))
    except Exception as e:  # noqa: BLE001
        out["triton_error"] = str(e)[:300]
    torch.cuda.synchronize()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

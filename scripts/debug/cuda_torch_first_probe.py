# Reproducer for the Python CUDA compile crash seen on the H100 (bench/results/2026-11-22-h100-device-check-2.txt):
#   python3 scripts/debug/cuda_torch_first_probe.py torch-first   # crashes in Context.compile(target="cuda")
#   python3 scripts/debug/cuda_torch_first_probe.py mt-first      # works
# Prints which NVRTC / libcuda copies are mapped at each step. Needs a GPU and torch with CUDA.
import faulthandler, sys, os, subprocess
faulthandler.enable()
BUILD = os.environ.get("MINI_TRITON_BUILD_DIR", "build")
sys.path[:0] = ["python", os.path.join(BUILD, "python")]

def maps(tag):
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if ("nvrtc" in l or "libcuda" in l or "cudart" in l)})
    print(tag, libs, flush=True)
order = sys.argv[1]
specs = [("ptr", "f32", True), ("ptr", "f32", True), ("ptr", "f32", True), ("scalar", "i32", False, False), ("constexpr", 1024)]
src = open("examples/kernels/vector_add.py").read()
if order == "torch-first":
    import torch
    print("torch", torch.__version__, torch.version.cuda, flush=True)
    x = torch.randn(10, device="cuda")
    maps("after torch init")
from mini_triton import _ext
ctx = _ext.context()
maps("after mt import")
k = ctx.compile(src, "vector_add.py", 0, "add_kernel", specs, [], {}, num_warps=4, num_stages=3, target="cuda")
maps("after compile")
print("compiled", flush=True)

"""The GPU launch path on a machine without a GPU: a stand-in libcuda.so.1 (cuda_stub/libcuda_stub.c, built
here with the C compiler) lets CUDA-tensor launches go through jit.py → Context (Target cuda: emitter, NVRTC)
→ LoadedKernel → cuLaunchKernel, which the stub prints instead of running. Checks what reaches the driver:
context handling, module loading, grid/block, and the packed kernel parameters (raw device pointers, ints).
Skipped where a real GPU exists (the gpu-marked tests run the kernels there) or without cc/NVRTC."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def _has_real_gpu():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


@pytest.fixture(scope="module")
def stub_dir(tmp_path_factory):
    if _has_real_gpu():
        pytest.skip("a real GPU is present")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler for the libcuda stub")
    from mini_triton import _ext  # noqa: F401  (the extension must load before we go on)
    d = tmp_path_factory.mktemp("cuda_stub")
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(d / "libcuda.so.1"), os.path.join(HERE, "cuda_stub",
                                                                                        "libcuda_stub.c")],
                   check=True)
    return str(d)


def _run(stub_dir, code, nparams):
    import mini_triton
    env = dict(os.environ)
    paths = [os.path.dirname(p) for p in mini_triton.__path__] + [HERE]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    env["LD_LIBRARY_PATH"] = stub_dir + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    env["STUB_NPARAMS"] = str(nparams)
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=300)
    return r


PRELUDE = """
    import torch
    from mini_triton import _ext
    from test_gpu import load_example

    class Fake:  # a CUDA tensor as far as the launch path can tell
        def __init__(self, ptr):
            self.ptr, self.dtype, self.device, self.is_cuda = ptr, torch.float32, torch.device("cuda", 0), True
        def data_ptr(self):
            return self.ptr
        def untyped_storage(self):
            return torch.empty(4).untyped_storage()

    ok, why = _ext._C.cuda_available()
    assert ok, why
"""


def test_vector_add_launch_reaches_the_driver(stub_dir):
    r = _run(stub_dir, PRELUDE + """
    add = load_example("vector_add").add_kernel
    x, y, out = Fake(0x100000000), Fake(0x200000000), Fake(0x300000040)
    add[(3,)](x, y, out, 100, BLOCK_SIZE=64)
    add[(5, 1, 1)](x, y, out, 300, BLOCK_SIZE=64)
    print("DONE")
    """, 4)
    assert r.returncode == 0 and "DONE" in r.stdout, r.stdout + r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith("[stub]")]
    assert lines.count("[stub] cuDevicePrimaryCtxRetain") == 1, lines  # no context current: retained once
    assert lines.count("[stub] cuModuleLoadData in a context") == 1, lines  # same specialisation: one module
    assert "[stub] cuModuleGetFunction add_kernel" in lines
    launches = [l for l in lines if "cuLaunchKernel" in l]
    assert launches == [
        "[stub] cuLaunchKernel grid=3,1,1 block=128 shared=0 stream=(nil) params=100000000,200000000,300000040,64",
        "[stub] cuLaunchKernel grid=5,1,1 block=128 shared=0 stream=(nil) params=100000000,200000000,300000040,12c",
    ], lines


def test_softmax_scalars_and_shared_memory(stub_dir):
    r = _run(stub_dir, PRELUDE + """
    k = load_example("softmax").softmax_kernel
    k[(7,)](Fake(0x500000000), Fake(0x600000000), 100, 100, 100, BLOCK_SIZE=128, num_warps=2)
    print("DONE")
    """, 5)
    assert r.returncode == 0 and "DONE" in r.stdout, r.stdout + r.stderr
    launches = [l for l in r.stderr.splitlines() if "cuLaunchKernel" in l]
    assert len(launches) == 1, r.stderr
    assert "grid=7,1,1 block=64 " in launches[0]
    assert launches[0].endswith("params=500000000,600000000,64,64,64"), launches[0]


def test_warmup_reports_the_drivers_registers_and_the_launch_shared_memory(stub_dir):
    # Triton's softmax tutorial sizes its persistent grid from these.
    r = _run(stub_dir, PRELUDE + """
    from mini_triton.runtime import driver
    k = load_example("softmax").softmax_kernel
    c = k.warmup(Fake(0x500000000), Fake(0x600000000), 100, 100, 100, BLOCK_SIZE=128, num_warps=2, grid=(1,))
    c._init_handles()
    print("INFO", c.n_regs, c.n_spills, c.metadata.shared, c.metadata.num_warps, c.metadata.target)
    k[(1,)](Fake(0x500000000), Fake(0x600000000), 100, 100, 100, BLOCK_SIZE=128, num_warps=2)
    print("DONE")
    """, 0)
    assert r.returncode == 0 and "DONE" in r.stdout, r.stdout + r.stderr
    info = [l for l in r.stdout.splitlines() if l.startswith("INFO")][0].split()
    launches = [l for l in r.stderr.splitlines() if "cuLaunchKernel" in l]
    assert len(launches) == 1, r.stderr  # warmup compiles, it does not launch
    shared = launches[0].split("shared=")[1].split()[0]
    assert info[1:] == ["40", "4", shared, "2", "cuda"], (info, launches)


def test_overlapping_host_buffers_share_one_device_copy(stub_dir):
    # MINI_TRITON_FORCE_GPU=1 sends this NumPy launch to the GPU target: host buffers are copied to the
    # device. One array passed twice and a view into it must land in one device copy, at the same offsets.
    r = _run(stub_dir, """
    import os
    os.environ["MINI_TRITON_FORCE_GPU"] = "1"
    import numpy as np
    from test_gpu import load_example
    add = load_example("vector_add").add_kernel
    a = np.arange(256, dtype=np.float32)
    b = np.ones(64, dtype=np.float32)
    add[(1,)](a, a, a[64:], 64, BLOCK_SIZE=64)
    add[(1,)](a, b, a[128:], 64, BLOCK_SIZE=64)
    print("DONE")
    """, 3)
    assert r.returncode == 0 and "DONE" in r.stdout, r.stdout + r.stderr
    launches = [l for l in r.stderr.splitlines() if "cuLaunchKernel" in l]
    assert len(launches) == 2, r.stderr
    p = [int(v, 16) for v in launches[0].rsplit("params=", 1)[1].split(",")]
    assert p[0] == p[1] and p[2] == p[0] + 64 * 4, launches[0]
    q = [int(v, 16) for v in launches[1].rsplit("params=", 1)[1].split(",")]
    assert q[2] == q[0] + 128 * 4 and not (q[0] <= q[1] < q[0] + 256 * 4), launches[1]

"""The disk cache of compiled GPU kernels across processes, on a machine without a GPU: the stand-in libcuda
of test_cuda_stub.py lets CUDA-tensor launches reach Context (Target cuda) → disk cache / NVRTC → LoadedKernel
→ cuLaunchKernel. A second process finds the kernel on disk (no NVRTC) and launches it with the same
block/shared/params; a truncated entry is recompiled and rewritten; MINI_TRITON_CACHE_DISABLE turns it off."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from test_cuda_stub import stub_dir  # noqa: F401  (stub_dir is a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

CHILD = """
    import sys, torch
    import mini_triton, mini_triton.language
    sys.modules["triton"], sys.modules["triton.language"] = mini_triton, mini_triton.language
    import importlib.util
    spec = importlib.util.spec_from_file_location("k", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    class Fake:  # a CUDA tensor as far as the launch path can tell
        def __init__(self, ptr):
            self.ptr, self.dtype, self.device, self.is_cuda = ptr, torch.float32, torch.device("cuda", 0), True
        def data_ptr(self):
            return self.ptr
        def untyped_storage(self):
            return torch.empty(4).untyped_storage()

    mod.softmax_kernel[(7,)](Fake(0x500000000), Fake(0x600000000), 100, 100, 100, BLOCK_SIZE=128, num_warps=2)
    print("DONE")
"""


@pytest.fixture
def kernel_file(tmp_path):
    # One path for every process: the file name is part of the cache key.
    path = tmp_path / "softmax.py"
    shutil.copy(os.path.join(REPO, "examples", "kernels", "softmax.py"), path)
    return str(path)


def run(stub_dir, kernel_file, cache_dir, **extra_env):  # noqa: F811
    import mini_triton
    env = dict(os.environ)
    env.pop("MINI_TRITON_CACHE_DISABLE", None)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(p) for p in mini_triton.__path__] +
                                        [env.get("PYTHONPATH", "")])
    env["LD_LIBRARY_PATH"] = stub_dir + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    env["STUB_NPARAMS"] = "5"
    env["MINI_TRITON_CACHE_DIR"] = cache_dir
    env["MINI_TRITON_CACHE_LOG"] = "1"
    env.update(extra_env)
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), kernel_file], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and "DONE" in r.stdout, r.stdout + r.stderr
    cache = [line for line in r.stderr.splitlines() if line.startswith("mini_triton cache:")]
    launches = [line for line in r.stderr.splitlines() if "cuLaunchKernel" in line]
    assert len(launches) == 1, r.stderr
    assert "grid=7,1,1 block=64 " in launches[0], launches[0]
    assert launches[0].endswith("params=500000000,600000000,64,64,64"), launches[0]
    return cache, launches[0]


def entries(cache_dir):
    return sorted(f for f in os.listdir(cache_dir) if f.endswith(".mtk")) if os.path.isdir(cache_dir) else []


def test_second_process_hits_the_disk_cache(stub_dir, kernel_file, tmp_path):  # noqa: F811
    cache_dir = str(tmp_path / "cache")
    cold, cold_launch = run(stub_dir, kernel_file, cache_dir)
    assert len(cold) == 1 and cold[0].startswith("mini_triton cache: miss softmax_kernel sm_90a"), cold
    assert "nvrtc" in cold[0] and cold[0].rstrip().split(" key=")[0].endswith("stored"), cold
    assert len(entries(cache_dir)) == 1
    warm, warm_launch = run(stub_dir, kernel_file, cache_dir)
    assert len(warm) == 1 and warm[0].startswith("mini_triton cache: hit softmax_kernel sm_90a"), warm
    assert warm_launch == cold_launch  # same block, shared memory and parameters from the cached metadata


def test_truncated_entry_is_recompiled_and_rewritten(stub_dir, kernel_file, tmp_path):  # noqa: F811
    cache_dir = str(tmp_path / "cache")
    run(stub_dir, kernel_file, cache_dir)
    (entry,) = entries(cache_dir)
    path = os.path.join(cache_dir, entry)
    with open(path, "rb") as f:
        whole = f.read()
    with open(path, "wb") as f:
        f.write(whole[: len(whole) // 3])
    log, _ = run(stub_dir, kernel_file, cache_dir)
    assert any("dropped corrupt entry" in line for line in log), log
    assert any(line.startswith("mini_triton cache: miss softmax_kernel") for line in log), log
    with open(path, "rb") as f:
        assert f.read() == whole
    log, _ = run(stub_dir, kernel_file, cache_dir)
    assert log[0].startswith("mini_triton cache: hit softmax_kernel"), log


def test_disable_and_unwritable_directory(stub_dir, kernel_file, tmp_path):  # noqa: F811
    cache_dir = str(tmp_path / "cache")
    log, _ = run(stub_dir, kernel_file, cache_dir, MINI_TRITON_CACHE_DISABLE="1")
    assert log == [] and entries(cache_dir) == []
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    import mini_triton  # noqa: F401
    env_dir = str(blocker / "cache")
    r_log, _ = run(stub_dir, kernel_file, env_dir)
    assert any("not stored" in line for line in r_log), r_log

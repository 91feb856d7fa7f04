"""GPU end to end: the kernels of examples/kernels launched on torch CUDA tensors (Target Cuda: CUDA emitter →
NVRTC → driver), checked against torch float64 references; plus the launch-path checks that run anywhere
(CUDA tensors without a GPU, CPU and CUDA tensors mixed in one launch)."""

import importlib.util
import os
import sys
import tempfile
import time

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl
from mini_triton import _ext
_jit = sys.modules["mini_triton.jit"]  # the module (mini_triton.jit is also the decorator)

torch = pytest.importorskip("torch")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_tmp = tempfile.mkdtemp(prefix="mt_gpu_kernels_")


def load_example(name, folder=("examples", "kernels")):
    """examples/kernels/<name>.py (or <folder>/<name>.py) with `import triton` bound to mini_triton (copied so
    that the source stays readable for the compiler)."""
    with open(os.path.join(REPO, *folder, f"{name}.py")) as f:
        text = f.read()
    text = text.replace("import triton.language as tl", "import mini_triton.language as tl")
    text = text.replace("import triton\n", "import mini_triton as triton\n")
    path = os.path.join(_tmp, f"mt_example_{name}.py")
    with open(path, "w") as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location(f"mt_example_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def gen(seed):
    return torch.Generator(device="cuda").manual_seed(seed)


class FakeCudaTensor:
    """Enough of a CUDA tensor for the launch path's classification (never dereferenced)."""

    def __init__(self):
        self.dtype = torch.float32
        self.device = torch.device("cuda", 0)
        self.is_cuda = True

    def data_ptr(self):
        return 1 << 40

    def untyped_storage(self):
        return torch.empty(16, dtype=torch.float32).untyped_storage()


# ---- anywhere ---------------------------------------------------------------------------------------------

def test_cuda_tensor_without_gpu_is_a_clear_runtime_error(monkeypatch):
    monkeypatch.setattr(_jit, "_cuda_state", (False, "cannot load libcuda.so.1 (test)"))
    add = load_example("vector_add").add_kernel
    out = np.zeros(16, np.float32)
    with pytest.raises(RuntimeError, match=r"argument 'x_ptr' is on device 'cuda:0'.*cannot load libcuda"):
        add[(1,)](FakeCudaTensor(), out, out, 16, BLOCK_SIZE=16)


def test_mixing_cpu_and_cuda_tensors_names_the_parameters(monkeypatch):
    monkeypatch.setattr(_jit, "_cuda_state", (True, ""))
    add = load_example("vector_add").add_kernel
    x = torch.ones(16)
    with pytest.raises(TypeError, match=r"'x_ptr' is in host memory.*'y_ptr' is a CUDA tensor"):
        add[(1,)](x, FakeCudaTensor(), x, 16, BLOCK_SIZE=16)


def test_cuda_available_reports_a_reason():
    ok, why = _ext._C.cuda_available()
    assert ok or "libcuda" in why or "CUDA" in why or "cuInit" in why


def test_classify_fast_path_marks_cuda_tensors():
    _jit._ir_dtype(torch.float32, "x", "k")  # fills the pointer key strings of f32
    keys, launch = _ext._C.classify((FakeCudaTensor(), 16), b"ss", _jit._ptr_keys, _jit._ndarray, FakeCudaTensor)
    assert keys == ("*f32:16:cuda", "i32:16")
    assert launch[0][0] == 1 << 40 and launch[0][2] is True and launch[1] == 16
    keys, launch = _ext._C.classify((torch.ones(4), 3), b"ss", _jit._ptr_keys, _jit._ndarray, torch.Tensor)
    assert keys[0] in ("*f32:16", "*f32") and len(launch[0]) == 2


def test_cpu_kernel_rejects_device_memory():
    add = load_example("vector_add").add_kernel
    x = np.ones(16, np.float32)
    k = add.warmup(x, x, x, 16, BLOCK_SIZE=16, grid=(1,))
    with pytest.raises(triton.LaunchError, match="argument 'x_ptr' is a pointer .* GPU memory"):
        k.launch((1, 1, 1), [(1 << 40, 64, True), (x.ctypes.data, 64), (x.ctypes.data, 64), 16])


# ---- on a GPU ---------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("n", [1, 1000, 98432, 1 << 20])
def test_vector_add(n):
    add = load_example("vector_add").add_kernel
    x = torch.rand(n, device="cuda", generator=gen(1)) - 0.5
    y = torch.rand(n, device="cuda", generator=gen(2)) - 0.5
    out = torch.full_like(x, float("nan"))
    add[(triton.cdiv(n, 1024),)](x, y, out, n, BLOCK_SIZE=1024)
    torch.cuda.synchronize()
    ref = x.double() + y.double()
    torch.testing.assert_close(out.double(), ref, rtol=1e-6, atol=1e-6)


@pytest.mark.gpu
def test_vector_add_on_a_view_and_a_side_stream():
    add = load_example("vector_add").add_kernel
    n = 5000
    base = torch.rand(n + 7, device="cuda", generator=gen(3))
    x = base[7:]  # not 16-byte aligned
    y = torch.rand(n, device="cuda", generator=gen(4))
    out = torch.full((n,), float("nan"), device="cuda")
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        add[(triton.cdiv(n, 256),)](x, y, out, n, BLOCK_SIZE=256)
    s.synchronize()
    torch.testing.assert_close(out.double(), x.double() + y.double(), rtol=1e-6, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("rows,cols", [(37, 100), (128, 781)])
def test_softmax(rows, cols):
    k = load_example("softmax").softmax_kernel
    x = torch.randn(rows, cols, device="cuda", generator=gen(5)) * 3
    out = torch.full_like(x, float("nan"))
    block = triton.next_power_of_2(cols)
    k[(rows,)](out, x, x.stride(0), out.stride(0), cols, BLOCK_SIZE=block)
    torch.cuda.synchronize()
    torch.testing.assert_close(out.double(), torch.softmax(x.double(), dim=1), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("M,N,K", [(130, 70, 90), (256, 256, 256)])
def test_matmul(M, N, K):
    k = load_example("matmul").matmul_kernel
    a = torch.rand(M, K, device="cuda", generator=gen(6)) - 0.5
    b = torch.rand(K, N, device="cuda", generator=gen(7)) - 0.5
    c = torch.full((M, N), float("nan"), device="cuda")
    BM, BN, BK = 64, 64, 32
    grid = (triton.cdiv(M, BM) * triton.cdiv(N, BN),)
    k[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1),
            BLOCK_SIZE_M=BM, BLOCK_SIZE_N=BN, BLOCK_SIZE_K=BK, GROUP_SIZE_M=8, OUTPUT_FP16=False)
    torch.cuda.synchronize()
    ref = a.double() @ b.double()
    # f32 tl.dot rounds its inputs to tf32 (Triton's default): ~2^-10 relative per product.
    torch.testing.assert_close(c.double(), ref, rtol=1e-2, atol=1e-2 * (K ** 0.5) / 4)


# (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages): the shapes bench/matmul_bench.py tunes over. On sm_90a
# they run as warpgroup MMAs: 64 rows a warpgroup, or 128 rows on one warpgroup of 4 warps (two products
# per k-step, A's rows permuted in shared memory), with N = 64 .. 256 and the products left in flight.
BF16_MATMUL_CONFIGS = [(64, 64, 32, 4, 3), (128, 64, 32, 4, 4), (128, 128, 32, 4, 4), (128, 128, 64, 8, 4),
                       (128, 256, 64, 8, 3)]


@pytest.mark.gpu
@pytest.mark.parametrize("cfg", BF16_MATMUL_CONFIGS, ids=lambda c: "BM{}_BN{}_BK{}_w{}_s{}".format(*c))
def test_matmul_bf16_tensor_core_configs(cfg):
    """The tutorial matmul in bf16 (tensor cores, f32 accumulation, bf16 stores staged through shared memory)
    on sizes off every tile, against float64."""
    BM, BN, BK, warps, stages = cfg
    k = load_example("matmul").matmul_kernel
    M, N, K = 300, 264, 200
    a = ((torch.rand(M, K, device="cuda", generator=gen(21)) - 0.5)).to(torch.bfloat16)
    b = ((torch.rand(K, N, device="cuda", generator=gen(22)) - 0.5)).to(torch.bfloat16)
    c = torch.full((M, N), float("nan"), device="cuda", dtype=torch.bfloat16)
    grid = (triton.cdiv(M, BM) * triton.cdiv(N, BN),)
    k[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1),
            BLOCK_SIZE_M=BM, BLOCK_SIZE_N=BN, BLOCK_SIZE_K=BK, GROUP_SIZE_M=8, OUTPUT_FP16=False,
            num_warps=warps, num_stages=stages)
    torch.cuda.synchronize()
    ref = a.double() @ b.double()
    assert not torch.isnan(c).any()
    assert float((c.double() - ref).norm() / ref.norm()) < 1e-2


@pytest.mark.gpu
@pytest.mark.parametrize("cfg", [(128, 64, 4, 3), (128, 32, 4, 4), (128, 128, 8, 3), (64, 64, 4, 3)],
                         ids=lambda c: "BM{}_BN{}_w{}_s{}".format(*c))
@pytest.mark.parametrize("head_dim", [64, 128])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_bf16_configs(cfg, head_dim, causal):
    """bench/kernels/attention_bf16.py (the benchmark's kernel: no masks, S a multiple of the tiles) with the
    benchmark's configs, 128 query rows on 4 warps included, against float64."""
    BM, BN, warps, stages = cfg
    k = load_example("attention_bf16", ("bench", "kernels")).attn_fwd_bf16_kernel
    Z, H, S, D = 1, 3, 256, head_dim
    q, kk, v = (torch.randn(Z, H, S, D, device="cuda", generator=gen(30 + i)).to(torch.bfloat16) for i in range(3))
    o = torch.full_like(q, float("nan"))
    scale = 1.0 / D ** 0.5
    k[(S // BM, Z * H)](q, kk, v, o, scale, q.stride(0), q.stride(1), q.stride(2), q.stride(3), H, S,
                        HEAD_DIM=D, BLOCK_M=BM, BLOCK_N=BN, CAUSAL=causal, num_warps=warps, num_stages=stages)
    torch.cuda.synchronize()
    s = (q.double() @ kk.double().transpose(-1, -2)) * scale
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(S, S, dtype=torch.bool, device="cuda"), 1), float("-inf"))
    ref = torch.softmax(s, dim=-1) @ v.double()
    assert float((o.double() - ref).norm() / ref.norm()) < 1e-2


@pytest.mark.gpu
@pytest.mark.parametrize("rows,N", [(33, 257), (64, 1024)])
def test_layernorm(rows, N):
    k = load_example("layernorm").layer_norm_fwd
    x = torch.randn(rows, N, device="cuda", generator=gen(8)) * 2 + 0.5
    w = torch.rand(N, device="cuda", generator=gen(9)) + 0.5
    b = torch.rand(N, device="cuda", generator=gen(10)) - 0.5
    y = torch.full_like(x, float("nan"))
    mean = torch.full((rows,), float("nan"), device="cuda")
    rstd = torch.full((rows,), float("nan"), device="cuda")
    eps = 1e-5
    k[(rows,)](x, y, w, b, mean, rstd, x.stride(0), N, eps, BLOCK_SIZE=128)
    torch.cuda.synchronize()
    xd = x.double()
    ref = torch.nn.functional.layer_norm(xd, (N,), w.double(), b.double(), eps)
    torch.testing.assert_close(y.double(), ref, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(mean.double(), xd.mean(dim=1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(rstd.double(), 1 / torch.sqrt(xd.var(dim=1, unbiased=False) + eps), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.gpu
@pytest.mark.parametrize("causal", [False, True])
def test_attention(causal):
    k = load_example("attention").attn_fwd_kernel
    Z, H, S, D = 2, 3, 131, 64
    q = torch.randn(Z, H, S, D, device="cuda", generator=gen(11))
    kk = torch.randn(Z, H, S, D, device="cuda", generator=gen(12))
    v = torch.randn(Z, H, S, D, device="cuda", generator=gen(13))
    o = torch.full_like(q, float("nan"))
    scale = 1.0 / D ** 0.5
    BM, BN = 32, 32
    k[(triton.cdiv(S, BM), Z * H)](q, kk, v, o, scale, q.stride(0), q.stride(1), q.stride(2), q.stride(3), H, S,
                                   HEAD_DIM=D, BLOCK_M=BM, BLOCK_N=BN, CAUSAL=causal)
    torch.cuda.synchronize()
    s = (q.double() @ kk.double().transpose(-1, -2)) * scale
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(S, S, dtype=torch.bool, device="cuda"), 1), float("-inf"))
    ref = torch.softmax(s, dim=-1) @ v.double()
    torch.testing.assert_close(o.double(), ref, rtol=1e-2, atol=1e-2)


@triton.jit
def _empty_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    pass


@pytest.mark.gpu
def test_launch_overhead_cuda_tensors(capsys):
    x = torch.empty(1024, device="cuda")
    y = torch.empty(1024, device="cuda")
    launch = _empty_kernel[(1,)]
    for _ in range(200):
        launch(x, y, 1024, BLOCK=128)
    torch.cuda.synchronize()
    iters, best = 2000, float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters):
            launch(x, y, 1024, BLOCK=128)
        best = min(best, (time.perf_counter() - t0) / iters * 1e6)
    torch.cuda.synchronize()
    with capsys.disabled():
        print(f"\n[launch overhead] empty kernel, 2 CUDA tensors + 1 int: {best:.2f} us per launch")
    assert best < 1000

"""torch tensors as kernel arguments: same results as NumPy inputs; bfloat16; strided views; GPU guard."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mini_triton as triton  # noqa: E402
from kernels import add_kernel, matmul_kernel, scaled_copy_kernel, softmax_kernel  # noqa: E402


def test_numpy_and_torch_inputs_give_identical_results(rng):
    n = 1001
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    out_np = np.zeros(n, dtype=np.float32)
    add_kernel[(triton.cdiv(n, 128),)](x, y, out_np, n, BLOCK_SIZE=128)
    out_t = torch.zeros(n)
    add_kernel[(triton.cdiv(n, 128),)](torch.from_numpy(x), torch.from_numpy(y), out_t, n, BLOCK_SIZE=128)
    np.testing.assert_array_equal(out_t.numpy(), out_np)


def test_torch_softmax_matches_torch(rng):
    x = torch.from_numpy((rng.standard_normal((9, 70)) * 3).astype(np.float32))
    out = torch.empty_like(x)
    softmax_kernel[(9,)](out, x, x.stride(0), out.stride(0), 70, BLOCK_SIZE=128)
    torch.testing.assert_close(out, torch.softmax(x.double(), dim=1).float(), rtol=1e-5, atol=1e-6)


def test_torch_matmul_on_transposed_view(rng):
    a = torch.from_numpy(rng.standard_normal((40, 24)).astype(np.float32)).t()  # (24, 40), strided
    b = torch.from_numpy(rng.standard_normal((40, 18)).astype(np.float32))
    c = torch.zeros(24, 18)
    matmul_kernel[(2, 2)](a, b, c, 24, 18, 40, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0),
                          c.stride(1), BLOCK_M=16, BLOCK_N=16, BLOCK_K=16)
    torch.testing.assert_close(c, (a.double() @ b.double()).float(), rtol=1e-4, atol=1e-4)


def test_torch_bfloat16(rng):
    n = 257
    x = torch.from_numpy(rng.standard_normal(n).astype(np.float32)).to(torch.bfloat16)
    y = torch.from_numpy(rng.standard_normal(n).astype(np.float32)).to(torch.bfloat16)
    out = torch.zeros(n, dtype=torch.bfloat16)
    add_kernel[(triton.cdiv(n, 64),)](x, y, out, n, BLOCK_SIZE=64)
    ref = (x.double() + y.double())
    torch.testing.assert_close(out.double(), ref, rtol=1e-2, atol=1e-2)


def test_torch_view_with_storage_offset(rng):
    base = torch.from_numpy(rng.standard_normal(100).astype(np.float32))
    view = base[10::3]  # storage offset 10, stride 3
    n = view.numel()
    out = torch.zeros(n)
    scaled_copy_kernel[(triton.cdiv(n, 16),)](view, out, n, view.stride(0), 2.0, BLOCK=16)
    torch.testing.assert_close(out, view * 2.0)


@pytest.mark.gpu
def test_cuda_tensor(rng):
    x = torch.randn(100, device="cuda")
    out = torch.empty_like(x)
    add_kernel[(1,)](x, x, out, 100, BLOCK_SIZE=128)
    torch.testing.assert_close(out, 2 * x)


def test_cuda_tensor_without_gpu_is_a_clear_error(monkeypatch):
    import sys
    monkeypatch.setattr(sys.modules["mini_triton.jit"], "_cuda_state", (False, "no CUDA device (test)"))

    class FakeCudaTensor:  # stands for a CUDA tensor on a machine without one
        dtype = torch.float32
        device = torch.device("cuda", 0) if hasattr(torch, "device") else None
        is_cuda = True

        def data_ptr(self):
            return 0

    x = torch.zeros(4)
    with pytest.raises(RuntimeError, match="'x_ptr' is on device 'cuda:0', but mini_triton cannot use the GPU"):
        add_kernel[(1,)](FakeCudaTensor(), x, x, 4, BLOCK_SIZE=4)


def test_parameters_take_the_fast_path_and_read_their_own_data(rng):
    # nn.Parameter (model weights) is a torch.Tensor subclass: classified in C++ as a tensor (before, every
    # launch with a weight took the Python path), with its own data pointer and storage span.
    import sys
    from mini_triton import _ext
    _jit = sys.modules["mini_triton.jit"]  # the module (mini_triton.jit is also the decorator)
    n = 100
    x = torch.from_numpy(rng.standard_normal(n).astype(np.float32))
    w = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n).astype(np.float32)))
    out = torch.full((n,), float("nan"))
    add_kernel[(1,)](x, w, out, n, BLOCK_SIZE=128)
    np.testing.assert_array_equal(out.numpy(), (x + w.detach()).numpy())
    keys, launch = _ext._C.classify((x, w, out, n, 128), add_kernel._kinds, _jit._ptr_keys, _jit._ndarray,
                                    torch.Tensor)
    assert keys[0] == keys[1] and launch[1] == (w.data_ptr(), n * 4)

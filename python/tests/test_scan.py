"""mini_triton.ops.scan (kernels in mini_triton.kernels.scan) against a float64 torch reference.

Random a in (0, 1) and random x (seeded); odd T and D that are not multiples of the chunk sizes; fp32 / fp16 /
bf16 inputs with dtype tolerances; with and without h0; forward, gradients and gradcheck in float64 (the
kernels accumulate in float64 for float64 inputs).
"""

import numpy as np
import pytest
import torch

from mini_triton.ops.scan import (associative_rnn_scan, rnn_scan_ref, scan_backward, scan_forward,
                                  sequential_rnn_scan)

# (atol, rtol) of h against the float64 recurrence on the same (rounded) inputs, h stored in the input dtype
TOL = {torch.float32: (2e-5, 2e-5), torch.float16: (1e-2, 1e-2), torch.bfloat16: (6e-2, 2e-2),
       torch.float64: (1e-12, 1e-12)}

SCANS = {
    "sequential": sequential_rnn_scan,
    "associative": lambda x, a, h0=None, **kw: associative_rnn_scan(x, a, h0, chunk_t=8, chunk_d=8, **kw),
}


def make_inputs(B, T, D, dtype=torch.float32, with_h0=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, D, generator=g, dtype=torch.float64).to(dtype)
    a = (0.05 + 0.9 * torch.rand(B, T, D, generator=g, dtype=torch.float64)).to(dtype)  # in (0, 1)
    h0 = torch.randn(B, D, generator=g, dtype=torch.float64).to(dtype) if with_h0 else None
    return x, a, h0


def ref64(x, a, h0=None):
    return rnn_scan_ref(x.double(), a.double(), None if h0 is None else h0.double())


@pytest.mark.parametrize("scan", list(SCANS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("shape", [(2, 37, 19), (1, 100, 33), (3, 1, 5)])
@pytest.mark.parametrize("with_h0", [False, True])
def test_forward_matches_float64_reference(scan, dtype, shape, with_h0):
    x, a, h0 = make_inputs(*shape, dtype=dtype, with_h0=with_h0, seed=sum(shape))
    h = SCANS[scan](x, a, h0)
    assert h.dtype == dtype and h.shape == x.shape
    atol, rtol = TOL[dtype]
    torch.testing.assert_close(h.double(), ref64(x, a, h0), atol=atol, rtol=rtol)


@pytest.mark.parametrize("scan", list(SCANS))
def test_low_precision_inputs_with_float32_output(scan):
    x, a, h0 = make_inputs(2, 37, 19, dtype=torch.float16, with_h0=True, seed=3)
    h = SCANS[scan](x, a, h0, out_dtype=torch.float32)
    assert h.dtype == torch.float32
    torch.testing.assert_close(h.double(), ref64(x, a, h0), atol=1e-5, rtol=1e-5)  # only fp32 rounding left


@pytest.mark.parametrize("chunk_t,chunk_d", [(1, 1), (3, 5), (5, 3), (16, 32), (64, 64), (7, 19)])
def test_associative_chunk_sizes(chunk_t, chunk_d):
    """Chunks that are not powers of two, larger than T or D, or single steps/columns."""
    x, a, h0 = make_inputs(2, 37, 19, with_h0=True, seed=chunk_t * 100 + chunk_d)
    h = associative_rnn_scan(x, a, h0, chunk_t=chunk_t, chunk_d=chunk_d)
    torch.testing.assert_close(h.double(), ref64(x, a, h0), atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("block_d", [1, 4, 64])
def test_sequential_block_sizes(block_d):
    x, a, h0 = make_inputs(2, 9, 19, with_h0=True, seed=block_d)
    h = sequential_rnn_scan(x, a, h0, block_d=block_d)
    torch.testing.assert_close(h.double(), ref64(x, a, h0), atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("scan", list(SCANS))
def test_numpy_inputs(scan):
    x, a, h0 = make_inputs(2, 13, 6, with_h0=True, seed=5)
    h = SCANS[scan](x.numpy(), a.numpy(), h0.numpy())
    assert isinstance(h, np.ndarray) and h.dtype == np.float32
    np.testing.assert_allclose(h, ref64(x, a, h0).numpy(), atol=2e-5, rtol=2e-5)
    np.testing.assert_allclose(rnn_scan_ref(x.numpy(), a.numpy(), h0.numpy()), h, atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("scan", list(SCANS))
def test_any_sign_of_a(scan):
    """The linear-rnn seed's usage draws a from randn: negative and |a| > 1 coefficients."""
    g = torch.Generator().manual_seed(14)
    x = torch.randn(2, 37, 19, generator=g)
    a = torch.randn(2, 37, 19, generator=g)
    h = SCANS[scan](x, a)
    ref = ref64(x, a)
    torch.testing.assert_close(h.double(), ref, atol=1e-5 * ref.abs().max().item(), rtol=1e-4)


def test_float64_kernels_are_exact_to_float64():
    x, a, h0 = make_inputs(2, 37, 19, dtype=torch.float64, with_h0=True, seed=6)
    expected = ref64(x, a, h0)
    for scan in SCANS.values():
        torch.testing.assert_close(scan(x, a, h0), expected, atol=1e-12, rtol=1e-12)


def grads(fn, x, a, h0, w):
    x, a = x.detach().clone().requires_grad_(), a.detach().clone().requires_grad_()
    h0 = None if h0 is None else h0.detach().clone().requires_grad_()
    h = fn(x, a, h0)
    (h.double() * w).sum().backward()
    return h, x.grad, a.grad, None if h0 is None else h0.grad


@pytest.mark.parametrize("scan", list(SCANS))
@pytest.mark.parametrize("shape", [(2, 37, 19), (1, 100, 33)])
@pytest.mark.parametrize("with_h0", [False, True])
def test_gradients_match_float64_reference(scan, shape, with_h0):
    x, a, h0 = make_inputs(*shape, with_h0=with_h0, seed=7 + shape[1])
    w = torch.randn(shape, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    _, gx, ga, gh0 = grads(SCANS[scan], x, a, h0, w)
    _, rx, ra, rh0 = grads(ref64, x.double(), a.double(), None if h0 is None else h0.double(), w)
    assert gx.dtype == torch.float32 and ga.dtype == torch.float32
    torch.testing.assert_close(gx.double(), rx, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(ga.double(), ra, atol=1e-4, rtol=1e-4)
    if with_h0:
        torch.testing.assert_close(gh0.double(), rh0, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_gradients_low_precision(dtype):
    x, a, h0 = make_inputs(2, 37, 19, dtype=dtype, with_h0=True, seed=9)
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    _, rx, ra, rh0 = grads(ref64, x.double(), a.double(), h0.double(), w)
    scale = 2e-2 if dtype == torch.float16 else 1e-1
    for scan in SCANS.values():
        _, gx, ga, gh0 = grads(scan, x, a, h0, w)
        assert gx.dtype == dtype and ga.dtype == dtype and gh0.dtype == dtype
        for got, exp in ((gx, rx), (ga, ra), (gh0, rh0)):
            torch.testing.assert_close(got.double(), exp, atol=scale, rtol=scale)


@pytest.mark.parametrize("with_h0", [False, True])
def test_backward_modes_agree(with_h0):
    x, a, h0 = make_inputs(2, 37, 19, with_h0=with_h0, seed=11)
    h = scan_forward(x, a, h0, mode="sequential")
    dout = torch.randn(x.shape, generator=torch.Generator().manual_seed(12))
    seq = scan_backward(dout, a, h, h0, mode="sequential", chunk_d=8)
    chk = scan_backward(dout, a, h, h0, mode="chunked", chunk_t=5, chunk_d=7)
    for s, c in zip(seq, chk):
        if s is None:
            assert c is None
            continue
        torch.testing.assert_close(s, c, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("scan", list(SCANS))
@pytest.mark.parametrize("with_h0", [False, True])
def test_gradcheck_float64(scan, with_h0):
    x, a, h0 = make_inputs(2, 9, 5, dtype=torch.float64, with_h0=with_h0, seed=13)
    inputs = (x.requires_grad_(), a.requires_grad_()) + ((h0.requires_grad_(),) if with_h0 else ())
    if scan == "associative":
        def fn(*args):
            return associative_rnn_scan(*args, chunk_t=4, chunk_d=3)
    else:
        def fn(*args):
            return sequential_rnn_scan(*args, block_d=4)
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-8)


def test_input_errors():
    x, a, h0 = make_inputs(2, 5, 3, with_h0=True)
    with pytest.raises(ValueError, match="a must have x's shape"):
        sequential_rnn_scan(x, a[:, :4])
    with pytest.raises(ValueError, match="h0 must be"):
        associative_rnn_scan(x, a, h0[:, :2])
    with pytest.raises(ValueError, match="batch, time, dim"):
        associative_rnn_scan(x[0], a[0])
    with pytest.raises(TypeError, match="float16, bfloat16, float32 or float64"):
        sequential_rnn_scan(x.to(torch.int32), a)
    with pytest.raises(ValueError, match="chunk sizes must be positive"):
        associative_rnn_scan(x, a, chunk_t=0)


_TRITON_CHECK = r'''
import importlib.util, os, sys
import torch
import triton.language as ttl
import mini_triton.kernels.scan as ours
import mini_triton.ops.scan as ops
src = open(ours.__file__).read()
src = src.replace("import mini_triton as triton", "import triton").replace("import mini_triton.language as tl",
                                                                          "import triton.language as tl")
path = os.path.join(sys.argv[1], "scan_kernels_triton.py")
open(path, "w").write(src)
spec = importlib.util.spec_from_file_location("scan_kernels_triton", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
ops._k, ops.tl = mod, ttl  # the same kernel source, compiled by Triton
g = torch.Generator().manual_seed(15)
x = torch.randn(2, 13, 6, generator=g, dtype=torch.float64)
a = 0.05 + 0.9 * torch.rand(2, 13, 6, generator=g, dtype=torch.float64)
h0 = torch.randn(2, 6, generator=g, dtype=torch.float64)
w = torch.randn(2, 13, 6, generator=g, dtype=torch.float64)
def run(fn):
    ins = [t.clone().requires_grad_() for t in (x, a, h0)]
    h = fn(*ins)
    (h * w).sum().backward()
    return [h] + [t.grad for t in ins]
ref = run(ops.rnn_scan_ref)
for fn in (ops.sequential_rnn_scan, lambda *v: ops.associative_rnn_scan(*v, chunk_t=5, chunk_d=4)):
    for got, exp in zip(run(fn), ref):
        torch.testing.assert_close(got, exp, atol=1e-12, rtol=1e-12)
print("TRITON OK")
'''


def test_kernels_run_unchanged_under_triton_interpreter(tmp_path):
    """The kernel module is plain Triton: with only its imports changed, Triton's own interpreter
    (TRITON_INTERPRET=1) runs it and gives the float64 reference (forward and gradients, with h0)."""
    pytest.importorskip("triton")
    import os
    import subprocess
    import sys

    import mini_triton
    env = dict(os.environ, TRITON_INTERPRET="1")
    paths = [os.path.dirname(p) for p in mini_triton.__path__]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", _TRITON_CHECK, str(tmp_path)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and "TRITON OK" in r.stdout, r.stdout + r.stderr

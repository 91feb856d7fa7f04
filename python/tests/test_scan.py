"""mini_triton.ops.scan (kernels in mini_triton.kernels.scan) against a float64 torch reference.

Random a in (0, 1) and random x (seeded); odd T and D that are not multiples of the chunk sizes; fp32 / fp16 /
bf16 inputs with dtype tolerances; with and without h0; forward, gradients and gradcheck in float64 (the
kernels accumulate in float64 for float64 inputs).
"""

import numpy as np
import pytest
import torch

from mini_triton.ops.mingru import mingru_chunked, mingru_reference
from mini_triton.ops.scan import (associative_rnn_scan, rnn_scan_ref, rnn_scan_ref_blocked, scan_backward,
                                  scan_forward, sequential_rnn_scan)

# (atol, rtol) of h against the float64 recurrence on the same (rounded) inputs, h stored in the input dtype
TOL = {torch.float32: (2e-5, 2e-5), torch.float16: (1e-2, 1e-2), torch.bfloat16: (6e-2, 2e-2),
       torch.float64: (1e-12, 1e-12)}

SCANS = {
    "sequential": sequential_rnn_scan,
    "associative": lambda x, a, h0=None, **kw: associative_rnn_scan(x, a, h0, chunk_t=8, chunk_d=8, **kw),
    "lookback": lambda x, a, h0=None, **kw: associative_rnn_scan(x, a, h0, chunk_t=8, chunk_d=8, lookback=True,
                                                                 **kw),
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
    for mode in ("chunked", "lookback"):
        chk = scan_backward(dout, a, h, h0, mode=mode, chunk_t=5, chunk_d=7)
        for s, c in zip(seq, chk):
            if s is None:
                assert c is None
                continue
            torch.testing.assert_close(s, c, atol=1e-5, rtol=1e-5)


def test_lookback_default():
    """lookback=None picks the lookback kernels only for CUDA tensors of T >= LOOKBACK_MIN_T; a given value wins."""
    from mini_triton.ops.scan import LOOKBACK_MIN_T, use_lookback
    long_cpu = torch.empty(1, LOOKBACK_MIN_T, 4)
    assert not use_lookback(long_cpu)
    assert use_lookback(long_cpu, True) and not use_lookback(long_cpu, False)
    assert not use_lookback(np.zeros((1, LOOKBACK_MIN_T, 4)))
    assert not use_lookback(torch.empty(4))  # no (B, T, D) shape: the op's own check reports it
    assert use_lookback(long_cpu, True, 8, 8)
    if torch.cuda.is_available():
        assert use_lookback(long_cpu.cuda())
        assert not use_lookback(torch.empty(1, LOOKBACK_MIN_T - 1, 4, device="cuda"))
        assert not use_lookback(long_cpu.cuda(), None, 8, 8)  # tiny chunks: the chunked kernels


@pytest.mark.parametrize("chunk_t,chunk_d", [(1, 1), (3, 5), (16, 32), (7, 19)])
def test_lookback_chunk_sizes(chunk_t, chunk_d):
    """Every chunk its own program: carries pass through the epoch-tagged slots, two per column block, each
    reused every other chunk (T = 61 gives up to 61 chunks in a chain)."""
    x, a, h0 = make_inputs(3, 61, 21, with_h0=True, seed=21)
    h = associative_rnn_scan(x, a, h0, chunk_t=chunk_t, chunk_d=chunk_d, lookback=True)
    torch.testing.assert_close(h.double(), ref64(x, a, h0), atol=2e-5, rtol=2e-5)


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


def test_strided_inputs_need_no_copy():
    """Transposed storage, a torch.chunk half and a stride-0 (expanded) gradient, read through their strides."""
    x, a, h0 = make_inputs(2, 37, 19, with_h0=True, seed=16)
    xt = x.transpose(1, 2).contiguous().transpose(1, 2)  # (B, T, D) view with stride_d = T
    both = torch.cat([a, torch.randn_like(a)], dim=2)
    a_half = both[..., :19]  # stride_t = 38
    h0_t = h0.t().contiguous().t()
    assert not xt.is_contiguous() and not a_half.is_contiguous() and not h0_t.is_contiguous()
    expected = ref64(x, a, h0)
    for scan in SCANS.values():
        torch.testing.assert_close(scan(xt, a_half, h0_t).double(), expected, atol=2e-5, rtol=2e-5)
    dout = torch.ones(1, 1, 1).expand(2, 37, 19)  # what h.sum().backward() hands down: all strides 0
    h = scan_forward(x, a, h0, mode="sequential")
    for mode in ("sequential", "chunked"):
        got = scan_backward(dout, a_half, h, h0_t, mode=mode, chunk_t=5, chunk_d=8)
        exp = scan_backward(dout.contiguous(), a, h, h0, mode=mode, chunk_t=5, chunk_d=8)
        for g, e in zip(got, exp):
            assert g.is_contiguous()
            torch.testing.assert_close(g, e, atol=0, rtol=0)


def test_blocked_reference_matches_the_loop():
    x, a, h0 = make_inputs(2, 101, 7, dtype=torch.float64, with_h0=True, seed=17)
    expected = rnn_scan_ref(x, a, h0)
    for block_t in (None, 1, 8, 101, 200):
        torch.testing.assert_close(rnn_scan_ref_blocked(x, a, h0, block_t=block_t), expected, atol=1e-13,
                                   rtol=1e-13)
    a[0, 50, 3] = 0.0  # exact zeros are fine (no division)
    torch.testing.assert_close(rnn_scan_ref_blocked(x, a), rnn_scan_ref(x, a), atol=1e-13, rtol=1e-13)


# ---- offsets past 2^31 elements -----------------------------------------------------------------------------
# Views into one large, mostly untouched allocation (virtual memory: only the pages of the B*T*D elements used
# are ever written): batch stride 2^30 + 7 (so 2 * stride_b > 2^31 - 1) and time stride 2^27 + 8 (so
# 19 * stride_t > 2^31 - 1), both of which still reach the kernels as int32 scalars. The interpreter reports
# i32 overflow as an error, so any batch or time offset formed in 32 bits fails these tests.
BIG_B, BIG_T, BIG_D = 3, 20, 5
BIG_SB, BIG_ST = 2**30 + 7, 2**27 + 8


@pytest.fixture(scope="module")
def big_views():
    n = (BIG_B - 1) * BIG_SB + (BIG_T - 1) * BIG_ST + 3 * BIG_D
    try:
        buf = torch.empty(n, dtype=torch.float16)  # ~8.6 GB of address space, ~1 MB touched
    except RuntimeError as e:  # strict overcommit (vm.overcommit_memory=2) refuses the reservation
        pytest.skip(f"cannot reserve {n * 2 / 2**30:.1f} GiB of address space: {e}")

    def view(k, shape=(BIG_B, BIG_T, BIG_D), strides=(BIG_SB, BIG_ST, 1)):
        return buf.as_strided(shape, strides, storage_offset=k * BIG_D)
    x, a, h0 = view(0), view(1), view(2, (BIG_B, BIG_D), (BIG_SB, 1))
    g = torch.Generator().manual_seed(18)
    x.copy_(torch.randn(x.shape, generator=g))
    a.copy_(0.05 + 0.9 * torch.rand(a.shape, generator=g))
    h0.copy_(torch.randn(h0.shape, generator=g))
    yield x, a, h0
    del buf


BIG_SCANS = {
    "sequential": lambda x, a, h0: sequential_rnn_scan(x, a, h0, block_d=4),
    "associative": lambda x, a, h0: associative_rnn_scan(x, a, h0, chunk_t=8, chunk_d=4),  # 7 * stride_t fits
    "associative-copy": lambda x, a, h0: associative_rnn_scan(x, a, h0, chunk_t=16, chunk_d=4),  # 15 * does not
}


@pytest.mark.parametrize("scan", list(BIG_SCANS))
def test_offsets_past_int32_forward_and_backward(big_views, scan):
    x, a, h0 = big_views
    assert x.storage_offset() + (BIG_B - 1) * BIG_SB + (BIG_T - 1) * BIG_ST > 2 * (2**31)
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(19), dtype=torch.float64)
    xs, as_, h0s = (t.detach().requires_grad_() for t in (x, a, h0))  # the strided views themselves
    h = BIG_SCANS[scan](xs, as_, h0s)
    (h.double() * w).sum().backward()
    _, rx, ra, rh0 = grads(ref64, x.double(), a.double(), h0.double(), w)
    torch.testing.assert_close(h.double(), ref64(x, a, h0), atol=1e-2, rtol=1e-2)
    for got, exp in ((xs.grad, rx), (as_.grad, ra), (h0s.grad, rh0)):
        torch.testing.assert_close(got.double(), exp, atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("mode", ["sequential", "chunked"])
def test_offsets_past_int32_strided_gradient(big_views, mode):
    """The backward kernels read dout (and a, h0) at offsets past 2^31 as well."""
    x, a, h0 = big_views
    h = scan_forward(x, a, h0, mode=mode, chunk_t=8, chunk_d=4)
    got = scan_backward(x, a, h, h0, mode=mode, chunk_t=8, chunk_d=4)  # x's values as dout
    exp = scan_backward(x.contiguous(), a.contiguous(), h, h0.contiguous(), mode=mode, chunk_t=8, chunk_d=4)
    for g, e in zip(got, exp):
        torch.testing.assert_close(g, e, atol=0, rtol=0)


@pytest.mark.parametrize("use_scan", [True, False])
def test_offsets_past_int32_mingru(big_views, use_scan):
    x, a, _ = big_views
    b_, a_ = x.detach().requires_grad_(), a.detach().requires_grad_()
    h = mingru_chunked(a_, b_, 8, 4, backward_use_scan=use_scan)
    h.double().sum().backward()
    ar, br = a.double().requires_grad_(), x.double().requires_grad_()
    ref = mingru_reference(ar, br)
    ref.sum().backward()
    torch.testing.assert_close(h.double(), ref, atol=1e-2, rtol=1e-2)
    torch.testing.assert_close(a_.grad.double(), ar.grad, atol=2e-2, rtol=2e-2)
    torch.testing.assert_close(b_.grad.double(), br.grad, atol=2e-2, rtol=2e-2)


def test_host_passes_int64_sizes_and_strides():
    """Python ints past int32 reach the kernel as int64 scalars (Triton's rule); the kernels then need no cast."""
    import mini_triton as triton
    import mini_triton.language as tl

    @triton.jit
    def probe(out_ptr, n, stride):
        tl.store(out_ptr + tl.arange(0, 2), tl.where(tl.arange(0, 2) == 0, n // 1024, stride % 1000))

    out = torch.zeros(2, dtype=torch.int64)
    probe[(1,)](out, 2**40, 2**33 + 123)
    assert out.tolist() == [2**30, (2**33 + 123) % 1000]


_TRITON_CHECK = r"""
import sys
import torch
import mini_triton.kernels.scan as ours
from mini_triton.kernels import triton_twin
import mini_triton.ops.scan as ops
twin = triton_twin(ours, directory=sys.argv[1])  # the same kernel source, compiled by Triton
assert twin.tl.__name__ == "triton.language"
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
for fn in (lambda *v: ops.sequential_rnn_scan(*v, kernels=twin),
           lambda *v: ops.associative_rnn_scan(*v, chunk_t=5, chunk_d=4, kernels=twin)):
    for got, exp in zip(run(fn), ref):
        torch.testing.assert_close(got, exp, atol=1e-12, rtol=1e-12)
x, a, h0, w = (t.float() for t in (x, a, h0, w))  # the lookback kernels: float32 carries only
ref = [t.float() for t in ref]
for got, exp in zip(run(lambda *v: ops.associative_rnn_scan(*v, chunk_t=3, chunk_d=4, lookback=True,
                                                            kernels=twin)), ref):
    torch.testing.assert_close(got, exp, atol=1e-5, rtol=1e-5)
print("TRITON OK")
"""


def test_kernels_run_unchanged_under_triton_interpreter(tmp_path):
    """The kernel module is plain Triton: with only its imports changed (kernels.triton_twin), Triton's own
    interpreter (TRITON_INTERPRET=1) runs it and gives the float64 reference (forward and gradients, with h0)."""
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


def test_kernels_compile_with_real_triton_for_sm90(monkeypatch):
    """Triton's own compiler (not its interpreter) takes the kernel source through TTIR, TTGIR, LLVM and ptxas
    to a cubin for sm_90, ahead of time (no GPU needed): the checks of types and loop-carried values that only a
    real compile makes. Specialised as Triton launches them (unit strides along D become constexpr 1)."""
    pytest.importorskip("triton")
    monkeypatch.setenv("TRITON_DEFAULT_FP_FUSION", "1")  # newer Triton warns when it is unset
    import triton
    import triton.language as ttl
    from triton.compiler import ASTSource

    from mini_triton.kernels import scan as kscan
    from mini_triton.kernels import triton_twin
    try:
        from triton.backends.compiler import GPUTarget
    except ImportError:
        pytest.skip("this Triton has no GPUTarget")
    twin = triton_twin(kscan)
    meta = {"HAS_H0": True, "ACC": ttl.float32, "BLOCK_D": 32, "CHUNK_T": 7, "CHUNK_D": 19, "BLOCK_T": 8}
    for name in ("rnn_scan_fwd_seq_kernel", "rnn_scan_fwd_chunked_kernel", "rnn_scan_bwd_seq_kernel",
                 "rnn_scan_bwd_chunked_kernel", "rnn_scan_fwd_lookback_kernel", "rnn_scan_bwd_lookback_kernel"):
        fn = getattr(twin, name)
        sig, const = {}, {}
        for arg in fn.arg_names:
            if arg in meta or (arg.startswith("stride_") and arg.endswith("d")):
                sig[arg], const[arg] = "constexpr", meta.get(arg, 1)
            else:
                sig[arg] = ("*i64" if arg == "state_ptr" else "*bf16") if arg.endswith("_ptr") else "i32"
        kernel = triton.compile(ASTSource(fn, sig, const), target=GPUTarget("cuda", 90, 32))
        assert "cubin" in kernel.asm and ".version" in kernel.asm["ptx"], name

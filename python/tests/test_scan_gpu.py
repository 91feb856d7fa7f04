"""The scan ops and mingru_chunked on CUDA tensors (the kernels of mini_triton.kernels.scan compiled for the GPU):
random a in (0, 1), odd T and D, forward and gradients against a float64 reference; strided views; one launch
over more than 2^31 elements (B=4, T=131072, D=5120); and, where Triton is installed, the same kernel source
compiled by Triton gives the same states. All tests are marked `gpu` (skipped without a GPU)."""

import pytest

torch = pytest.importorskip("torch")

from mini_triton.ops.mingru import mingru_chunked  # noqa: E402
from mini_triton.ops.scan import (associative_rnn_scan, rnn_scan_ref, rnn_scan_ref_blocked,  # noqa: E402
                                  scan_backward, scan_forward, sequential_rnn_scan)

pytestmark = pytest.mark.gpu

TOL = {torch.float32: 2e-5, torch.float16: 1e-2, torch.bfloat16: 6e-2, torch.float64: 1e-12}
GRAD_TOL = {torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 1e-1, torch.float64: 1e-10}
SCANS = {
    "sequential": lambda x, a, h0=None, **kw: sequential_rnn_scan(x, a, h0, **kw),
    "associative": lambda x, a, h0=None, **kw: associative_rnn_scan(x, a, h0, chunk_t=16, chunk_d=32, **kw),
    "associative-odd": lambda x, a, h0=None, **kw: associative_rnn_scan(x, a, h0, chunk_t=7, chunk_d=19, **kw),
    "lookback": lambda x, a, h0=None, **kw: associative_rnn_scan(x, a, h0, chunk_t=16, chunk_d=32, lookback=True,
                                                                 **kw),
    "lookback-odd": lambda x, a, h0=None, **kw: associative_rnn_scan(x, a, h0, chunk_t=7, chunk_d=19,
                                                                     lookback=True, **kw),
}


def inputs(B, T, D, dtype, seed, with_h0=True):
    g = torch.Generator(device="cuda").manual_seed(seed)
    x = torch.randn(B, T, D, generator=g, device="cuda", dtype=torch.float64).to(dtype)
    a = (0.05 + 0.9 * torch.rand(B, T, D, generator=g, device="cuda", dtype=torch.float64)).to(dtype)
    h0 = torch.randn(B, D, generator=g, device="cuda", dtype=torch.float64).to(dtype) if with_h0 else None
    return x, a, h0


def fwd_bwd(fn, x, a, h0, w):
    ins = [t.detach().clone().requires_grad_() if t is not None else None for t in (x, a, h0)]
    h = fn(*ins)
    (h.double() * w).sum().backward()
    return [h] + [t.grad if t is not None else None for t in ins]


def ref64(x, a, h0=None):
    return rnn_scan_ref(x.double(), a.double(), None if h0 is None else h0.double())


def check_fwd_bwd(scan, dtype, shape, with_h0):
    x, a, h0 = inputs(*shape, dtype, seed=sum(shape), with_h0=with_h0)
    w = torch.randn(shape, device="cuda", dtype=torch.float64, generator=torch.Generator("cuda").manual_seed(1))
    got = fwd_bwd(SCANS[scan], x, a, h0, w)
    exp = fwd_bwd(ref64, x.double(), a.double(), None if h0 is None else h0.double(), w)
    assert got[0].is_cuda and got[0].dtype == dtype and got[1].dtype == dtype
    torch.testing.assert_close(got[0].double(), exp[0], atol=TOL[dtype], rtol=TOL[dtype])
    for g, e in zip(got[1:], exp[1:]):
        if e is None:
            assert g is None
            continue
        torch.testing.assert_close(g.double(), e, atol=GRAD_TOL[dtype], rtol=GRAD_TOL[dtype])


@pytest.mark.parametrize("scan", list(SCANS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("with_h0", [False, True])
def test_forward_and_gradients_on_cuda(scan, dtype, with_h0):
    check_fwd_bwd(scan, dtype, (3, 257, 77), with_h0)


@pytest.mark.parametrize("scan", list(SCANS))
@pytest.mark.parametrize("shape", [(2, 37, 19), (1, 1, 5), (2, 1000, 3)])
def test_small_and_odd_shapes_on_cuda(scan, shape):
    check_fwd_bwd(scan, torch.float32, shape, True)


@pytest.mark.parametrize("use_scan", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_mingru_on_cuda(use_scan, dtype):
    x, a, _ = inputs(2, 301, 45, dtype, seed=3, with_h0=False)
    w = torch.randn(x.shape, device="cuda", dtype=torch.float64)
    got = fwd_bwd(lambda b, a, _: mingru_chunked(a, b, 16, 8, backward_use_scan=use_scan), x, a, None, w)
    exp = fwd_bwd(ref64, x.double(), a.double(), None, w)
    torch.testing.assert_close(got[0].double(), exp[0], atol=TOL[dtype], rtol=TOL[dtype])
    for g, e in zip(got[1:3], exp[1:3]):
        torch.testing.assert_close(g.double(), e, atol=GRAD_TOL[dtype], rtol=GRAD_TOL[dtype])


def test_strided_views_on_cuda():
    x, a, h0 = inputs(2, 99, 40, torch.float32, seed=4)
    both = torch.cat([a, x], dim=2)
    a_v, x_v = both[..., :40], both[..., 40:]  # torch.chunk-style halves
    expected = ref64(x, a, h0)
    for scan in SCANS.values():
        torch.testing.assert_close(scan(x_v, a_v, h0).double(), expected, atol=2e-5, rtol=2e-5)
    dout = torch.ones(1, 1, 1, device="cuda").expand(2, 99, 40)
    h = scan_forward(x, a, h0, mode="chunked")
    for mode in ("sequential", "chunked", "lookback"):
        got = scan_backward(dout, a_v, h, h0, mode=mode)
        exp = scan_backward(dout.contiguous(), a, h, h0, mode=mode)
        for g, e in zip(got, exp):
            torch.testing.assert_close(g, e, atol=1e-6, rtol=1e-6)


def test_gpu_matches_cpu_interpreter():
    x, a, h0 = inputs(2, 45, 21, torch.float32, seed=5)
    for scan in SCANS.values():
        torch.testing.assert_close(scan(x, a, h0).cpu(), scan(x.cpu(), a.cpu(), h0.cpu()), atol=1e-6, rtol=1e-6)


def _free_gib():
    free, _ = torch.cuda.mem_get_info()
    return free / 2**30


@pytest.mark.parametrize("mode", ["chunked", "sequential", "lookback"])
def test_more_than_2_31_elements(mode):
    """B=4, T=131072, D=5120 in bf16 (2.7e9 elements per tensor): forward and backward in one launch each;
    the states and gradients checked in float64 on the last batch (offsets past 2^31) and the first."""
    B, T, D = 4, 131072, 5120
    if _free_gib() < 36:
        pytest.skip("needs about 36 GiB of free GPU memory")
    g = torch.Generator(device="cuda").manual_seed(6)
    x = torch.randn(B, T, D, device="cuda", dtype=torch.bfloat16, generator=g)
    a = torch.rand(B, T, D, device="cuda", dtype=torch.bfloat16, generator=g).mul_(0.9).add_(0.05)
    assert x.numel() > 2**31
    h = scan_forward(x, a, mode=mode, chunk_t=64, chunk_d=32)
    dout = torch.randn(B, T, D, device="cuda", dtype=torch.bfloat16, generator=g)
    dx, da, _ = scan_backward(dout, a, h, mode=mode, chunk_t=64, chunk_d=32)
    for b, cols in ((B - 1, slice(D - 11, D)), (0, slice(0, 7))):
        xs, as_ = (t[b:b + 1, :, cols].double().requires_grad_() for t in (x, a))
        ref = rnn_scan_ref_blocked(xs, as_)
        ref.backward(dout[b:b + 1, :, cols].double())
        torch.testing.assert_close(h[b:b + 1, :, cols].double(), ref.detach(), atol=6e-2, rtol=2e-2)
        torch.testing.assert_close(dx[b:b + 1, :, cols].double(), xs.grad, atol=1e-1, rtol=5e-2)
        torch.testing.assert_close(da[b:b + 1, :, cols].double(), as_.grad, atol=1e-1, rtol=5e-2)


def test_triton_twin_gives_the_same_states():
    """The same kernel source compiled by Triton (kernels.triton_twin) and by mini_triton agree."""
    pytest.importorskip("triton")
    import mini_triton.kernels.scan as kscan
    from mini_triton.kernels import triton_twin
    twin = triton_twin(kscan)
    x, a, h0 = inputs(2, 333, 70, torch.float32, seed=7)
    w = torch.randn(x.shape, device="cuda", dtype=torch.float64)
    for scan in SCANS.values():
        ours = fwd_bwd(scan, x, a, h0, w)
        theirs = fwd_bwd(lambda *v, scan=scan: scan(*v, kernels=twin), x, a, h0, w)
        for o, t in zip(ours, theirs):
            torch.testing.assert_close(o, t, atol=1e-5, rtol=1e-5)

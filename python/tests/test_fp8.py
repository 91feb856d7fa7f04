"""fp8 (tl.float8e4nv = torch.float8_e4m3fn, tl.float8e5 = torch.float8_e5m2): loads and stores of fp8 tensors,
casts (round to nearest even, saturating to the largest finite value as Triton's cvt.rn.satfinite; torch's
own cast after a clamp is the reference), arithmetic computed in f32 and rounded back, Triton's promotion
rules, and tl.dot of fp8 operands (mixed formats too) against float64 references."""

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl

torch = pytest.importorskip("torch")
if not hasattr(torch, "float8_e4m3fn"):
    pytest.skip("this torch has no float8 dtypes", allow_module_level=True)

FORMATS = {tl.float8e4nv: (torch.float8_e4m3fn, 448.0), tl.float8e5: (torch.float8_e5m2, 57344.0)}


@triton.jit
def cast_kernel(x_ptr, y_ptr, back_ptr, N: tl.constexpr, DT: tl.constexpr):
    o = tl.arange(0, N)
    y = tl.load(x_ptr + o).to(DT)
    tl.store(y_ptr + o, y)
    tl.store(back_ptr + o, tl.load(y_ptr + o).to(tl.float32))


def _ref_bits(x, torch_dtype, max_finite):
    return x.clamp(-max_finite, max_finite).to(torch_dtype).view(torch.uint8)


@pytest.mark.parametrize("dt", [tl.float8e4nv, tl.float8e5])
def test_casts_round_to_nearest_even_and_saturate(rng, dt):
    torch_dtype, max_finite = FORMATS[dt]
    x = torch.from_numpy(rng.standard_normal(512).astype(np.float32)) * 300
    x[:8] = torch.tensor([1e9, -1e9, float("inf"), -float("inf"), 0.0, -0.0, 1e-12, max_finite])
    y = torch.full((512,), 0x55, dtype=torch.uint8).view(torch_dtype)
    back = torch.full((512,), float("nan"))
    cast_kernel[(1,)](x, y, back, N=512, DT=dt)
    assert torch.equal(y.view(torch.uint8), _ref_bits(x, torch_dtype, max_finite))
    assert torch.equal(back, y.float())
    nan = torch.full((4,), float("nan"))
    cast_kernel[(1,)](nan, y[:4], back[:4], N=4, DT=dt)
    assert torch.isnan(y[:4].float()).all() and torch.isnan(back[:4]).all()


@triton.jit
def arith_kernel(a_ptr, b_ptr, out_ptr, N: tl.constexpr):
    o = tl.arange(0, N)
    a = tl.load(a_ptr + o)  # fp8e4nv
    b = tl.load(b_ptr + o)  # fp8e5
    same = a * 2 + a        # fp8e4nv: each op in f32, rounded back to fp8
    mixed = a + b           # two fp8 formats: fp16
    wide = a * 1.5          # a float literal takes the tensor's dtype
    tl.static_assert(same.dtype == tl.float8e4nv)
    tl.static_assert(mixed.dtype == tl.float16)
    tl.static_assert((a + b.to(tl.bfloat16)).dtype == tl.float32)
    tl.store(out_ptr + o * 3, same.to(tl.float32))
    tl.store(out_ptr + o * 3 + 1, mixed.to(tl.float32))
    tl.store(out_ptr + o * 3 + 2, wide.to(tl.float32))


def test_arithmetic_rounds_back_and_promotes(rng):
    n = 128
    a = torch.from_numpy(rng.standard_normal(n).astype(np.float32) * 20).to(torch.float8_e4m3fn)
    b = torch.from_numpy(rng.standard_normal(n).astype(np.float32) * 20).to(torch.float8_e5m2)
    out = torch.full((n, 3), float("nan"))
    arith_kernel[(1,)](a, b, out, N=n)
    e4 = lambda t: t.clamp(-448, 448).to(torch.float8_e4m3fn).float()  # noqa: E731
    af, bf = a.float(), b.float()
    torch.testing.assert_close(out[:, 0], e4(e4(af * 2) + af), rtol=0, atol=0)
    torch.testing.assert_close(out[:, 1], (af.half() + bf.half()).float(), rtol=0, atol=0)
    torch.testing.assert_close(out[:, 2], e4(af * 1.5), rtol=0, atol=0)


@triton.jit
def fp8_matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                      OUT: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    acc = tl.zeros((BM, BN), tl.float32)
    for k in range(0, K, BK):
        rk = k + tl.arange(0, BK)
        a = tl.load(a_ptr + rm[:, None] * K + rk[None, :], mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0)
        b = tl.load(b_ptr + rk[:, None] * N + rn[None, :], mask=(rk[:, None] < K) & (rn[None, :] < N), other=0.0)
        acc = tl.dot(a, b, acc)
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], acc.to(OUT), mask=(rm[:, None] < M) & (rn[None, :] < N))


@pytest.mark.parametrize("fa, fb", [(torch.float8_e4m3fn, torch.float8_e4m3fn), (torch.float8_e5m2, torch.float8_e5m2),
                                    (torch.float8_e4m3fn, torch.float8_e5m2)])
def test_fp8_matmul(rng, fa, fb):
    m, n, k = 40, 48, 80
    a = torch.from_numpy(rng.standard_normal((m, k)).astype(np.float32)).to(fa)
    b = torch.from_numpy(rng.standard_normal((k, n)).astype(np.float32)).to(fb)
    c = torch.full((m, n), float("nan"))
    fp8_matmul_kernel[(triton.cdiv(m, 16), triton.cdiv(n, 16))](a, b, c, m, n, k, BM=16, BN=16, BK=32,
                                                                 OUT=tl.float32)
    ref = a.double() @ b.double()
    torch.testing.assert_close(c.double(), ref, rtol=1e-6, atol=1e-5)  # exact products, f32 sums


def test_fp8_store_of_a_matmul(rng):
    m = n = k = 32
    a = torch.from_numpy(rng.standard_normal((m, k)).astype(np.float32)).to(torch.float8_e4m3fn)
    b = torch.from_numpy(rng.standard_normal((k, n)).astype(np.float32)).to(torch.float8_e4m3fn)
    c = torch.zeros((m, n), dtype=torch.float8_e4m3fn)
    fp8_matmul_kernel[(2, 2)](a, b, c, m, n, k, BM=16, BN=16, BK=32, OUT=tl.float8e4nv)
    ref = (a.float() @ b.float()).clamp(-448, 448).to(torch.float8_e4m3fn)
    assert torch.equal(c.view(torch.uint8), ref.view(torch.uint8))


@pytest.mark.gpu
def test_gpu_fp8(rng):
    for dt, (torch_dtype, max_finite) in FORMATS.items():
        x = torch.from_numpy(rng.standard_normal(512).astype(np.float32)).cuda() * 300
        x[:4] = torch.tensor([1e9, -1e9, float("inf"), 1e-12], device="cuda")
        y = torch.empty(512, dtype=torch_dtype, device="cuda")
        back = torch.full((512,), float("nan"), device="cuda")
        cast_kernel[(1,)](x, y, back, N=512, DT=dt)
        assert torch.equal(y.view(torch.uint8).cpu(), _ref_bits(x.cpu(), torch_dtype, max_finite))
        assert torch.equal(back, y.float())
    m, n, k = 200, 136, 256
    a = torch.randn(m, k, device="cuda").to(torch.float8_e4m3fn)
    b = torch.randn(k, n, device="cuda").to(torch.float8_e5m2)
    c = torch.full((m, n), float("nan"), device="cuda")
    fp8_matmul_kernel[(triton.cdiv(m, 64), triton.cdiv(n, 64))](a, b, c, m, n, k, BM=64, BN=64, BK=64,
                                                                 OUT=tl.float32)
    torch.testing.assert_close(c.double(), a.double() @ b.double(), rtol=1e-6, atol=1e-4)

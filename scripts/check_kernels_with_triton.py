"""Runs every kernel of examples/kernels under real Triton and checks it against a torch reference.

    python3 scripts/check_kernels_with_triton.py            # on a CUDA GPU
    TRITON_INTERPRET=1 python3 scripts/check_kernels_with_triton.py   # Triton's own CPU interpreter

This is the proof that the kernel files are plain Triton; mini-triton's own tests are in
unittests/e2e (C++ API).
"""
import importlib.util
import math
import os
import sys

import torch
import triton

HERE = os.path.dirname(os.path.abspath(__file__))
DEV = "cuda" if torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1" else "cpu"


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "..", "examples", "kernels", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check(name, got, ref, atol, rtol):
    err = (got.double() - ref.double()).abs().max().item()
    ok = torch.allclose(got.double(), ref.double(), atol=atol, rtol=rtol)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: max abs error {err:.3g}")
    return ok


def main():
    torch.manual_seed(0)
    ok = True
    f32 = dict(device=DEV, dtype=torch.float32)

    m = load("vector_add")
    x, y = torch.randn(1000, **f32), torch.randn(1000, **f32)
    out = torch.full_like(x, float("nan"))
    m.add_kernel[(triton.cdiv(1000, 256),)](x, y, out, 1000, BLOCK_SIZE=256)
    ok &= check("vector_add", out, x + y, 1e-6, 1e-5)

    m = load("softmax")
    x = torch.randn(37, 100, **f32)
    out = torch.full_like(x, float("nan"))
    m.softmax_kernel[(37,)](out, x, x.stride(0), out.stride(0), 100, BLOCK_SIZE=128)
    ok &= check("softmax", out, torch.softmax(x.double(), 1), 1e-6, 1e-5)

    m = load("matmul")
    for dt in (torch.float32, torch.float16):
        a = torch.randn(100, 50, device=DEV, dtype=dt)
        b = torch.randn(50, 72, device=DEV, dtype=dt)
        c = torch.full((100, 72), float("nan"), device=DEV, dtype=dt)
        grid = (triton.cdiv(100, 32) * triton.cdiv(72, 32),)
        m.matmul_kernel[grid](a, b, c, 100, 72, 50, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                              c.stride(0), c.stride(1), BLOCK_SIZE_M=32, BLOCK_SIZE_N=32, BLOCK_SIZE_K=16,
                              GROUP_SIZE_M=4, OUTPUT_FP16=(dt == torch.float16))
        tol = 2e-2 if dt == torch.float16 or DEV == "cuda" else 1e-4
        ok &= check(f"matmul {dt}", c, a.double() @ b.double(), tol, tol)

    m = load("layernorm")
    M, N = 33, 257
    x, w, bb = torch.randn(M, N, **f32), torch.randn(N, **f32), torch.randn(N, **f32)
    y = torch.full_like(x, float("nan"))
    mean, rstd = torch.full((M,), float("nan"), **f32), torch.full((M,), float("nan"), **f32)
    m.layer_norm_fwd[(M,)](x, y, w, bb, mean, rstd, x.stride(0), N, 1e-5, BLOCK_SIZE=128)
    xd = x.double()
    ref_mean = xd.mean(1)
    ref_rstd = 1 / torch.sqrt(xd.var(1, unbiased=False) + 1e-5)
    ref = (xd - ref_mean[:, None]) * ref_rstd[:, None] * w.double() + bb.double()
    ok &= check("layernorm y", y, ref, 1e-5, 1e-5)
    ok &= check("layernorm mean", mean, ref_mean, 1e-6, 1e-5)
    ok &= check("layernorm rstd", rstd, ref_rstd, 1e-6, 1e-5)

    m = load("attention")
    Z, H, S, D = 1, 2, 67, 32
    for causal in (False, True):
        q, k, v = (torch.randn(Z, H, S, D, **f32) for _ in range(3))
        o = torch.full_like(q, float("nan"))
        scale = 1 / math.sqrt(D)
        m.attn_fwd_kernel[(triton.cdiv(S, 16), Z * H)](q, k, v, o, scale, *q.stride(), H, S, HEAD_DIM=D,
                                                      BLOCK_M=16, BLOCK_N=16, CAUSAL=causal)
        s = (q.double() @ k.double().transpose(-1, -2)) * scale
        if causal:
            s = s.masked_fill(torch.ones(S, S, dtype=torch.bool, device=DEV).triu(1), float("-inf"))
        tol = 1e-2 if DEV == "cuda" else 1e-5
        ok &= check(f"attention causal={causal}", o, torch.softmax(s, -1) @ v.double(), tol, tol)

    B, T, D = 2, 100, 17
    a, x = torch.rand(B, T, D, **f32), torch.randn(B, T, D, **f32)
    ref = torch.empty(B, T, D, dtype=torch.float64, device=DEV)
    h = torch.zeros(B, D, dtype=torch.float64, device=DEV)
    for t in range(T):
        h = a[:, t].double() * h + x[:, t].double()
        ref[:, t] = h
    m = load("seq_scan")
    out = torch.full_like(x, float("nan"))
    m.seq_scan_kernel[(B, triton.cdiv(D, 8))](x, a, out, T, D, x.stride(0), x.stride(1), BLOCK_D=8)
    ok &= check("seq_scan", out, ref, 1e-5, 1e-5)
    m = load("linear_scan")
    xt, at = x.transpose(1, 2).contiguous(), a.transpose(1, 2).contiguous()
    out = torch.full_like(xt, float("nan"))
    m.linear_scan_kernel[(B, triton.cdiv(D, 8))](xt, at, out, D, T, xt.stride(0), xt.stride(1), BLOCK_D=8,
                                                 BLOCK_T=128)
    ok &= check("linear_scan", out, ref.transpose(1, 2), 1e-5, 1e-5)

    m = load("argmax")
    x = torch.randn(37, 100, **f32)
    x[3, 10] = x[3, 50] = x[3].max() + 1  # a tie: the first index wins
    out = torch.full((37,), -1, dtype=torch.int32, device=DEV)
    m.argmax_kernel[(37,)](x, out, x.stride(0), 100, BLOCK=128)
    ok &= check("argmax", out, x.argmax(1), 0, 0)

    m = load("atomics")
    x = torch.randint(0, 1000, (1000,), dtype=torch.int32, device=DEV)
    hist = torch.randint(1, 10, (16,), dtype=torch.int32, device=DEV)
    ref = hist.clone() + torch.bincount(x % 16, minlength=16).int()
    m.histogram_kernel[(triton.cdiv(1000, 128),)](x, hist, 1000, NUM_BINS=16, BLOCK=128)
    ok &= check("histogram", hist, ref, 0, 0)
    x = torch.randn(1000, **f32)
    out = torch.full((1,), -1e30, **f32)
    m.global_max_kernel[(triton.cdiv(1000, 128),)](x, out, 1000, BLOCK=128)
    ok &= check("global max", out, x.max().reshape(1), 0, 0)

    print("all ok" if ok else "SOME FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

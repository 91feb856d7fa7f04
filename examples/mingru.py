"""Chunked MinGRU and the linear-RNN scans on mini_triton (CPU interpreter), checked against float64 torch.

    PYTHONPATH=python:build/python python3 examples/mingru.py

The seed's usage (a = 0.5, b = 1, both backward aggregation modes), then random a in (0, 1) with sizes that
are not multiples of the chunk sizes, then the two scans of mini_triton.ops.scan with an initial state.
"""

import sys

import torch

from mini_triton.ops.mingru import mingru_chunked, mingru_reference
from mini_triton.ops.scan import associative_rnn_scan, rnn_scan_ref, sequential_rnn_scan


def grads(fn, *inputs):
    inputs = [t.detach().clone().requires_grad_() for t in inputs]
    h = fn(*inputs)
    (h.double() * torch.linspace(-1, 1, h.numel(), dtype=torch.float64).view(h.shape)).sum().backward()
    return [h] + [t.grad for t in inputs]


def report(name, got, ref, tol):
    err = max((g.double() - r.double()).abs().max().item() for g, r in zip(got, ref))
    ok = err <= tol
    print(f"{name:<44} max abs error {err:.2e} {'PASS' if ok else 'FAIL'}")
    return ok


def main():
    ok = True
    B, T, D = 1, 8, 4
    a = 0.5 * torch.ones((B, T, D))
    b = torch.ones((B, T, D))
    ref = grads(lambda a, b: mingru_reference(a.double(), b.double()), a, b)
    for use_scan in (True, False):
        got = grads(lambda a, b: mingru_chunked(a, b, 2, 4, backward_use_scan=use_scan), a, b)
        ok &= report(f"seed case, backward_use_scan={use_scan}", got, ref, 1e-5)

    g = torch.Generator().manual_seed(0)
    B, T, D = 2, 37, 19
    a = 0.05 + 0.9 * torch.rand(B, T, D, generator=g)
    b = torch.randn(B, T, D, generator=g)
    ref = grads(lambda a, b: mingru_reference(a.double(), b.double()), a, b)
    for use_scan in (True, False):
        got = grads(lambda a, b: mingru_chunked(a, b, 8, 8, backward_use_scan=use_scan), a, b)
        ok &= report(f"random a, T=37 D=19 chunks 8/8, scan={use_scan}", got, ref, 1e-4)

    h0 = torch.randn(B, D, generator=g)
    ref = grads(lambda x, a, h0: rnn_scan_ref(x.double(), a.double(), h0.double()), b, a, h0)
    ok &= report("sequential_rnn_scan with h0", grads(sequential_rnn_scan, b, a, h0), ref, 1e-4)
    ok &= report("associative_rnn_scan with h0", grads(associative_rnn_scan, b, a, h0), ref, 1e-4)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

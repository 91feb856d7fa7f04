"""Low-memory dropout (Triton tutorial 04) on mini_triton: the keep mask is regenerated from (seed, offset)
with tl.rand (Philox), never stored. Checked against the same Philox written here with Python integers, and
for the fraction of kept elements."""

import sys

import numpy as np

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def seeded_dropout_kernel(x_ptr, output_ptr, n_elements, p, seed, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    random = tl.rand(seed, offsets)
    x_keep = random > p
    output = tl.where(x_keep, x / (1 - p), 0.0)
    tl.store(output_ptr + offsets, output, mask=mask)


def seeded_dropout(x, p, seed):
    output = np.empty_like(x)
    n = x.size
    seeded_dropout_kernel[(triton.cdiv(n, 1024),)](x, output, n, p, seed, BLOCK_SIZE=1024)
    return output


def philox_uniform(seed, offsets, rounds=10):
    """Philox4x32-10 on counter (offset, 0, 0, 0) with key (seed low, seed high), first word to [0, 1)."""
    m = 0xFFFFFFFF
    out = np.empty(len(offsets), np.float32)
    for i, off in enumerate(offsets):
        c0, c1, c2, c3, k0, k1 = int(off) & m, 0, 0, 0, seed & m, (seed >> 32) & m
        for _ in range(rounds):
            p0, p2 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
            c0, c1, c2, c3 = (p2 >> 32) ^ c1 ^ k0, p2 & m, (p0 >> 32) ^ c3 ^ k1, p0 & m
            k0, k1 = (k0 + 0x9E3779B9) & m, (k1 + 0xBB67AE85) & m
        signed = c0 - (1 << 32) if c0 >> 31 else c0
        out[i] = np.float32(~signed if signed < 0 else signed) * np.float32(4.6566127342e-10)
    return out


def main():
    rng = np.random.default_rng(0)
    n, p, seed = 100_003, 0.4, 1234
    x = rng.standard_normal(n).astype(np.float32) + 5.0  # never 0: the dropped elements are exactly the zeros
    y = seeded_dropout(x, p, seed)
    again = seeded_dropout(x, p, seed)
    other = seeded_dropout(x, p, seed + 1)
    kept = y != 0
    check = np.arange(0, n, 97)  # the Python Philox is slow: every 97th element
    want = philox_uniform(seed, check) > np.float32(p)
    ok = (np.array_equal(kept[check], want) and np.array_equal(y, again) and not np.array_equal(y, other)
          and abs(kept.mean() - (1 - p)) < 0.01 and np.allclose(y[kept], x[kept] / (1 - p), rtol=1e-6))
    print(f"dropout: n={n} p={p} kept {kept.mean():.4f} (expected {1 - p}), mask vs Philox reference on "
          f"{check.size} elements, same seed same mask, new seed new mask: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

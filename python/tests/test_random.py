"""tl.umulhi and the Philox random numbers (tl.randint / randint4x / rand / rand4x / randn / randn4x / philox):
the bits of Triton's triton.language.random for the same (seed, offset), checked against a reference Philox
written here with Python integers; the floats against the same formulas in float32 / float64."""

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl

M32, M64 = (1 << 32) - 1, (1 << 64) - 1
PHILOX = {32: (0x9E3779B9, 0xBB67AE85, 0xD2511F53, 0xCD9E8D57),
          64: (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B, 0xD2E7470EE14C6C93, 0xCA5A826395121157)}


def philox_ref(seed, offsets, bits=32, rounds=10):
    """Philox 4xN on counter (offset, 0, 0, 0), key = the seed's halves (N = 32) or (seed, 0) (N = 64)."""
    mask = M32 if bits == 32 else M64
    key_a, key_b, round_a, round_b = PHILOX[bits]
    seed &= M64
    out = np.zeros((4, len(offsets)), dtype=np.uint32 if bits == 32 else np.uint64)
    for i, off in enumerate(int(o) for o in offsets):
        c = [off & mask, 0, 0, 0]
        k0, k1 = (seed & M32, seed >> 32) if bits == 32 else (seed, 0)
        for _ in range(rounds):
            c0, c2 = c[0], c[2]
            c = [((round_b * c2) >> bits) ^ c[1] ^ k0, (round_b * c2) & mask,
                 ((round_a * c0) >> bits) ^ c[3] ^ k1, (round_a * c0) & mask]
            k0, k1 = (k0 + key_a) & mask, (k1 + key_b) & mask
        out[:, i] = c
    return out


def uniform_ref(words):
    signed = words.view(np.int32 if words.dtype == np.uint32 else np.int64)
    folded = np.where(signed < 0, ~signed, signed)
    scale = np.float32(4.6566127342e-10 if words.dtype == np.uint32 else 1.0842020432385337e-19)
    return folded.astype(np.float32) * scale


@triton.jit
def store4(ptr, i, N: tl.constexpr, words):
    a, b, c, d = words
    tl.store(ptr + i, a)
    tl.store(ptr + N + i, b)
    tl.store(ptr + 2 * N + i, c)
    tl.store(ptr + 3 * N + i, d)


@triton.jit
def randint4x_kernel(seed, off_ptr, out_ptr, N: tl.constexpr, ROUNDS: tl.constexpr):
    i = tl.arange(0, N)
    store4(out_ptr, i, N, tl.randint4x(seed, tl.load(off_ptr + i), ROUNDS))


@triton.jit
def rand_kernel(seed, off_ptr, int_ptr, uni_ptr, uni4_ptr, normal_ptr, normal4_ptr, N: tl.constexpr):
    i = tl.arange(0, N)
    off = tl.load(off_ptr + i)
    tl.store(int_ptr + i, tl.randint(seed, off))
    tl.store(uni_ptr + i, tl.rand(seed, off))
    store4(uni4_ptr, i, N, tl.rand4x(seed, off))
    tl.store(normal_ptr + i, tl.randn(seed, off))
    store4(normal4_ptr, i, N, tl.randn4x(seed, off))


@triton.jit
def dropout_kernel(x_ptr, out_ptr, n, p, seed, BLOCK: tl.constexpr):
    # Triton's tutorial 04 (low-memory dropout): the mask is regenerated from (seed, offset), never stored.
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    keep = tl.rand(seed, offs) > p
    tl.store(out_ptr + offs, tl.where(keep, x / (1 - p), 0.0), mask=mask)


@triton.jit
def philox_kernel(out_ptr, seed, c0, c1, c2, c3):
    a, b, c, d = tl.philox(seed, c0, c1, c2, c3)
    tl.store(out_ptr, a)
    tl.store(out_ptr + 1, b)
    tl.store(out_ptr + 2, c)
    tl.store(out_ptr + 3, d)


@triton.jit
def umulhi_kernel(x_ptr, y_ptr, out_ptr, N: tl.constexpr):
    i = tl.arange(0, N)
    tl.store(out_ptr + i, tl.umulhi(tl.load(x_ptr + i), tl.load(y_ptr + i)))


def _offsets(rng, n, dtype):
    info = np.iinfo(dtype)
    off = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
    off[:4] = [0, 1, -1, info.min]
    return off


def test_philox_known_answers():
    # Random123's known-answer vectors for Philox4x32-10 (key = the seed's low, high halves).
    cases = [((0, 0, 0, 0), 0, (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
             ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), 0x299F31D0_A4093822,
              (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]
    for ctr, seed, want in cases:
        out = np.zeros(4, np.uint32)
        philox_kernel[(1,)](out, seed, *ctr)
        assert [hex(int(v)) for v in out] == [hex(v) for v in want]
    # Philox4x64-10, counter and key 0: the reference's 64-bit path and tl.randint4x on int64 offsets.
    want64 = [0x16554D9ECA36314C, 0xDB20FE9D672D0FDC, 0xD7E772CEE186176B, 0x7E68B68AEC7BA23B]
    assert [int(v) for v in philox_ref(0, np.zeros(1, np.int64), bits=64)[:, 0]] == want64
    out = np.zeros(4, np.uint64)
    randint4x_kernel[(1,)](0, np.zeros(1, np.int64), out, N=1, ROUNDS=10)
    assert [int(v) for v in out] == want64


@pytest.mark.parametrize("seed", [0, 123, -7, 0x1234_5678_9ABC])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_randint4x_matches_philox_bits(rng, seed, dtype):
    n = 64
    off = _offsets(rng, n, dtype)
    words = np.uint32 if dtype == np.int32 else np.uint64
    for rounds in (10, 7):
        out = np.full(4 * n, 0xDEAD, dtype=words)
        randint4x_kernel[(1,)](seed, off, out, N=n, ROUNDS=rounds)
        want = philox_ref(seed, off, bits=np.dtype(words).itemsize * 8, rounds=rounds)
        np.testing.assert_array_equal(out.reshape(4, n), want)


def test_rand_randn_match_the_reference(rng):
    n, seed = 256, 2024
    off = _offsets(rng, n, np.int32)
    outs = dict(ints=np.zeros(n, np.uint32), uni=np.full(n, np.nan, np.float32),
                uni4=np.full(4 * n, np.nan, np.float32), normal=np.full(n, np.nan, np.float32),
                normal4=np.full(4 * n, np.nan, np.float32))
    rand_kernel[(1,)](seed, off, *outs.values(), N=n)
    words = philox_ref(seed, off)
    np.testing.assert_array_equal(outs["ints"], words[0])
    uni = uniform_ref(words)
    np.testing.assert_array_equal(outs["uni"], uni[0])
    np.testing.assert_array_equal(outs["uni4"].reshape(4, n), uni)
    assert 0.0 <= outs["uni4"].min() and outs["uni4"].max() < 1.0

    def normals(u1, u2):
        u1 = np.maximum(1e-7, u1.astype(np.float64))
        r, th = np.sqrt(-2.0 * np.log(u1)), 2 * np.pi * u2.astype(np.float64)
        return r * np.cos(th), r * np.sin(th)

    n1, n2 = normals(uni[0], uni[1])
    n3, n4 = normals(uni[2], uni[3])
    np.testing.assert_allclose(outs["normal"], n1, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(outs["normal4"].reshape(4, n), np.stack([n1, n2, n3, n4]), rtol=1e-4, atol=1e-4)


def test_dropout_statistics_and_reproducibility(rng):
    n, p = 10_000, 0.3
    x = rng.standard_normal(n).astype(np.float32) + 3.0  # never 0: dropped elements are exactly the zeros
    outs = []
    for seed in (5, 5, 6):
        out = np.full(n, np.nan, np.float32)
        dropout_kernel[(triton.cdiv(n, 1024),)](x, out, n, p, seed, BLOCK=1024)
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])  # same seed, same mask
    assert (outs[0] == 0).tolist() != (outs[2] == 0).tolist()
    kept = outs[0] != 0
    assert abs(kept.mean() - (1 - p)) < 0.02
    np.testing.assert_allclose(outs[0][kept], x[kept] / (1 - p), rtol=1e-6)
    want = uniform_ref(philox_ref(5, np.arange(n, dtype=np.int32))[0]) > np.float32(p)
    np.testing.assert_array_equal(kept, want)


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.int64, np.uint64])
def test_umulhi(rng, dtype):
    n = 128
    bits = np.dtype(dtype).itemsize * 8
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
    y = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
    x[:2], y[:2] = info.max, info.max
    out = np.zeros(n, dtype)
    umulhi_kernel[(1,)](x, y, out, N=n)
    mask = (1 << bits) - 1
    want = [((int(a) & mask) * (int(b) & mask)) >> bits for a, b in zip(x, y)]
    np.testing.assert_array_equal(out.view(np.uint32 if bits == 32 else np.uint64),
                                  np.array(want, dtype=np.uint32 if bits == 32 else np.uint64))


@pytest.mark.parametrize("body, message", [
    ("tl.store(o + i, tl.rand(seed, i.to(tl.float32)))", "offset must be an integer, got tensor<16xf32>"),
    ("tl.store(o + i, tl.rand(1.5, i))", "seed must be an integer, got f32"),
    ("tl.store(o + i, tl.rand(seed, i.to(tl.int16)))", "offsets must be 32- or 64-bit integers"),
    ("tl.store(o + i, tl.rand(seed, i, -1))", "n_rounds must be from 0 to 64, got -1"),
    ("tl.store(o + i, tl.rand(seed, i, seed))", "n_rounds must be a compile-time integer"),
    ("tl.store(o + i, tl.umulhi(i.to(tl.int16), i.to(tl.int16)).to(tl.float32))",
     "tl.umulhi() expects 32- or 64-bit integers, got tensor<16xi16>"),
])
def test_bad_arguments_are_source_located_errors(tmp_path, body, message):
    path = tmp_path / "bad_random.py"
    path.write_text(
        "import mini_triton as triton\nimport mini_triton.language as tl\n\n\n@triton.jit\n"
        "def k(o, seed):\n    i = tl.arange(0, 16)\n    " + body + "\n")
    import importlib.util
    spec = importlib.util.spec_from_file_location("bad_random", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(Exception) as err:
        mod.k[(1,)](np.zeros(16, np.float32), 3)
    assert "bad_random.py:8:" in str(err.value) and message in str(err.value), str(err.value)


@pytest.mark.gpu
def test_gpu_bits_match_the_cpu_and_triton(rng):
    """On CUDA tensors: the same words and uniforms as the reference (bit for bit), normals within 1e-5; and,
    where Triton is installed, the same bits as Triton's own tl.rand / tl.randint4x on the same source."""
    torch = pytest.importorskip("torch")
    n, seed = 1024, 0x5EED_1234_5678
    off = _offsets(rng, n, np.int32)
    out = torch.full((4 * n,), 0xDEAD, dtype=torch.int32, device="cuda")
    randint4x_kernel[(1,)](seed, torch.from_numpy(off).cuda(), out, N=n, ROUNDS=10)
    got = out.cpu().numpy().view(np.uint32).reshape(4, n)
    np.testing.assert_array_equal(got, philox_ref(seed, off))
    outs = [torch.full((k * n,), float("nan"), device="cuda") for k in (1, 1, 4, 1, 4)]
    outs[0] = torch.zeros(n, dtype=torch.int32, device="cuda")
    rand_kernel[(1,)](seed, torch.from_numpy(off).cuda(), *outs, N=n)
    uni = uniform_ref(philox_ref(seed, off))
    np.testing.assert_array_equal(outs[1].cpu().numpy(), uni[0])
    np.testing.assert_array_equal(outs[2].cpu().numpy().reshape(4, n), uni)
    cpu = [np.full(k * n, np.nan, np.float32) for k in (1, 1, 4, 1, 4)]
    cpu[0] = np.zeros(n, np.uint32)
    rand_kernel[(1,)](seed, off, *cpu, N=n)
    np.testing.assert_allclose(outs[3].cpu().numpy(), cpu[3], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs[4].cpu().numpy(), cpu[4], rtol=1e-5, atol=1e-5)
    try:
        import triton as real_triton  # noqa: F401
    except ImportError:
        return
    import importlib.util
    import pathlib
    import tempfile
    text = pathlib.Path(__file__).read_text().split("\n\n\ndef _offsets")[0]
    text = text.replace("import mini_triton.language as tl", "import triton.language as tl")
    text = text.replace("import mini_triton as triton", "import triton")
    path = pathlib.Path(tempfile.mkdtemp()) / "triton_random_twin.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("triton_random_twin", path)
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    ref = torch.full((4 * n,), 0xDEAD, dtype=torch.int32, device="cuda")
    twin.randint4x_kernel[(1,)](seed, torch.from_numpy(off).cuda(), ref, N=n, ROUNDS=10)
    assert torch.equal(ref, out)
    ref_outs = [torch.empty_like(o) for o in outs]
    twin.rand_kernel[(1,)](seed, torch.from_numpy(off).cuda(), *ref_outs, N=n)
    for mine, theirs in zip(outs[:3], ref_outs[:3]):
        assert torch.equal(mine, theirs)
    for mine, theirs in zip(outs[3:], ref_outs[3:]):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)

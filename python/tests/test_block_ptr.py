"""Block pointers as flash-linear-attention's kernels use them: variable-length sequences from cu_seqlens, a
block pointer per sequence with boundary checks, and `p.dtype.element_ty` (the pointee block type, whose `.to`
casts to its element type) for the store's dtype; checked against float64 references, outputs poisoned."""

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def chunked_cumsum(x_ptr, cu_seqlens, o_ptr, D: tl.constexpr, IS_VARLEN: tl.constexpr, BT: tl.constexpr,
                   T_FIXED: tl.constexpr):
    i_n = tl.program_id(0)
    if IS_VARLEN:
        bos, eos = tl.load(cu_seqlens + i_n).to(tl.int32), tl.load(cu_seqlens + i_n + 1).to(tl.int32)
    else:
        bos, eos = i_n * T_FIXED, i_n * T_FIXED + T_FIXED
    T = eos - bos
    acc = tl.zeros([D], tl.float32)
    for t0 in range(0, T, BT):
        p_x = tl.make_block_ptr(x_ptr + bos * D, (T, D), (D, 1), (t0, 0), (BT, D), (1, 0))
        p_o = tl.make_block_ptr(o_ptr + bos * D, (T, D), (D, 1), (t0, 0), (BT, D), (1, 0))
        b = tl.load(p_x, boundary_check=(0, 1)).to(tl.float32)
        c = tl.cumsum(b, axis=0) + acc[None, :]
        acc += tl.sum(b, axis=0)
        tl.store(p_o, c.to(p_o.dtype.element_ty), boundary_check=(0, 1))


@triton.jit
def dtype_of_block_ptr(x_ptr, o_ptr):
    p = tl.make_block_ptr(o_ptr, (8, 4), (4, 1), (0, 0), (8, 4), (1, 0))
    tl.static_assert(p.dtype.element_ty.scalar == tl.float16)
    x = tl.load(x_ptr + tl.arange(0, 8)[:, None] * 4 + tl.arange(0, 4)[None, :])
    tl.store(p, x.to(p.dtype.element_ty))  # f32 -> the block's element type, fp16


@pytest.mark.parametrize("varlen", [True, False])
def test_varlen_chunked_cumsum_through_block_pointers(rng, varlen):
    D = 16
    lens = [7, 40, 1, 33] if varlen else [24] * 3
    cu = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    x = rng.standard_normal((int(cu[-1]), D)).astype(np.float32)
    o = np.full(x.shape, np.nan, np.float16)
    chunked_cumsum[(len(lens),)](x, cu, o, D=D, IS_VARLEN=varlen, BT=16, T_FIXED=24)
    want = np.concatenate([np.cumsum(x[a:b].astype(np.float64), axis=0) for a, b in zip(cu[:-1], cu[1:])])
    np.testing.assert_allclose(o.astype(np.float64), want, rtol=2e-3, atol=2e-3)  # stored as fp16


def test_block_pointer_dtype_is_a_pointer_to_its_block(rng):
    x = rng.standard_normal((8, 4)).astype(np.float32)
    o = np.full((8, 4), np.nan, np.float16)
    dtype_of_block_ptr[(1,)](x, o)
    np.testing.assert_array_equal(o, x.astype(np.float16))

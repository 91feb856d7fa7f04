"""Linear-RNN scan kernels: h_t = a_t * h_{t-1} + x_t over the time axis of (B, T, D) tensors.

Written in Triton's language (only the imports differ from a Triton module). All tensors are contiguous
(B, T, D); `h0` / `dh0` are (B, D). Every program handles one (batch, D-block) pair and walks the time axis;
the recurrence is computed in the accumulator dtype `ACC` (tl.float32, or tl.float64 for float64 inputs) and
stored in the output pointer's dtype (tl.store converts).

Forward:
  rnn_scan_fwd_seq_kernel      a `for t in range(T)` loop carrying h over a BLOCK_D tile.
  rnn_scan_fwd_chunked_kernel  tl.associative_scan over a (BLOCK_T, BLOCK_D) chunk of time steps, the last
                               state carried into the next chunk.
Backward (dout = dL/dh_t for every t; the saved forward states h; a; optional h0):
  dh_t = dout_t + a_{t+1} * dh_{t+1}   (dh_T = 0; note the coefficient is a shifted by one step)
  dx_t = dh_t,  da_t = dh_t * h_{t-1}  (h_{-1} = h0, or 0),  dh0 = a_0 * dh_0.
  rnn_scan_bwd_seq_kernel      the same recurrence as a reverse `for` loop.
  rnn_scan_bwd_chunked_kernel  a reverse tl.associative_scan per chunk, chunks visited last to first.

Chunk geometry: a chunk is CHUNK_T x CHUNK_D elements laid in a BLOCK_T x BLOCK_D tile (the next powers of
two); rows/columns past the chunk or past T/D are masked and enter the scan as the identity (a = 1, x = 0),
so the tile's last row always holds the chunk's last state.

Offsets are computed in int64 from the batch index on, so B * T * D may exceed 2^31.
"""

import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def linear_recurrence_combine(a_l, x_l, a_r, x_r):
    """Composes two steps of h -> a * h + x: first (a_l, x_l), then (a_r, x_r).

    (a_r, x_r) o (a_l, x_l): h -> a_r * (a_l * h + x_l) + x_r = (a_l * a_r) * h + (x_l * a_r + x_r).
    Associative, not commutative. With reverse=True the scan runs from the end and the same function gives
    g_t = a_t * g_{t+1} + x_t.
    """
    return a_l * a_r, x_l * a_r + x_r


@triton.jit
def _row(tile, rows, index):
    """Row `index` of a 2-D tile as a 1-D tile (a masked sum over axis 0)."""
    return tl.sum(tl.where(rows[:, None] == index, tile, 0.0), axis=0)


@triton.jit
def rnn_scan_fwd_seq_kernel(x_ptr, a_ptr, h0_ptr, h_ptr, T, D, HAS_H0: tl.constexpr, ACC: tl.constexpr,
                            BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    mask_d = offs_d < D
    base = pid_b.to(tl.int64) * T * D + offs_d
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b.to(tl.int64) * D + offs_d, mask=mask_d, other=0.0).to(ACC)
    else:
        h = tl.zeros((BLOCK_D,), dtype=ACC)
    for t in range(T):
        offs = base + t * D
        a = tl.load(a_ptr + offs, mask=mask_d, other=0.0).to(ACC)
        x = tl.load(x_ptr + offs, mask=mask_d, other=0.0).to(ACC)
        h = a * h + x
        tl.store(h_ptr + offs, h, mask=mask_d)


@triton.jit
def rnn_scan_fwd_chunked_kernel(x_ptr, a_ptr, h0_ptr, h_ptr, T, D, HAS_H0: tl.constexpr, ACC: tl.constexpr,
                                CHUNK_T: tl.constexpr, CHUNK_D: tl.constexpr, BLOCK_T: tl.constexpr,
                                BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    rows = tl.arange(0, BLOCK_T)
    cols = tl.arange(0, BLOCK_D)
    offs_d = pid_d * CHUNK_D + cols
    mask_d = (cols < CHUNK_D) & (offs_d < D)
    base = pid_b.to(tl.int64) * T * D
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b.to(tl.int64) * D + offs_d, mask=mask_d, other=0.0).to(ACC)
    else:
        h = tl.zeros((BLOCK_D,), dtype=ACC)
    for c in range(0, tl.cdiv(T, CHUNK_T)):
        offs_t = c * CHUNK_T + rows
        valid_t = (rows < CHUNK_T) & (offs_t < T)
        mask = valid_t[:, None] & mask_d[None, :]
        offs = base + offs_t[:, None] * D + offs_d[None, :]
        a = tl.load(a_ptr + offs, mask=mask, other=1.0).to(ACC)
        x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(ACC)
        # a_cum_t = a_0 * ... * a_t and h_loc_t = the state from a zero start, within the chunk
        a_cum, h_loc = tl.associative_scan((a, x), axis=0, combine_fn=linear_recurrence_combine)
        hs = h_loc + a_cum * h[None, :]
        tl.store(h_ptr + offs, hs, mask=mask)
        h = _row(hs, rows, BLOCK_T - 1)


@triton.jit
def rnn_scan_bwd_seq_kernel(dout_ptr, a_ptr, h_ptr, h0_ptr, dx_ptr, da_ptr, dh0_ptr, T, D,
                            HAS_H0: tl.constexpr, ACC: tl.constexpr, BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    mask_d = offs_d < D
    base = pid_b.to(tl.int64) * T * D + offs_d
    if HAS_H0:
        h_init = tl.load(h0_ptr + pid_b.to(tl.int64) * D + offs_d, mask=mask_d, other=0.0).to(ACC)
    else:
        h_init = tl.zeros((BLOCK_D,), dtype=ACC)
    g = tl.zeros((BLOCK_D,), dtype=ACC)  # a_{t+1} * dh_{t+1}
    for i in range(T):
        t = T - 1 - i
        offs = base + t * D
        dh = tl.load(dout_ptr + offs, mask=mask_d, other=0.0).to(ACC) + g
        a = tl.load(a_ptr + offs, mask=mask_d, other=0.0).to(ACC)
        h_prev = tl.load(h_ptr + base + tl.maximum(t - 1, 0) * D, mask=mask_d, other=0.0).to(ACC)
        h_prev = tl.where(t > 0, h_prev, h_init)
        tl.store(dx_ptr + offs, dh, mask=mask_d)
        tl.store(da_ptr + offs, dh * h_prev, mask=mask_d)
        g = a * dh
    if HAS_H0:
        tl.store(dh0_ptr + pid_b.to(tl.int64) * D + offs_d, g, mask=mask_d)


@triton.jit
def rnn_scan_bwd_chunked_kernel(dout_ptr, a_ptr, h_ptr, h0_ptr, dx_ptr, da_ptr, dh0_ptr, T, D,
                                HAS_H0: tl.constexpr, ACC: tl.constexpr, CHUNK_T: tl.constexpr,
                                CHUNK_D: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0)
    pid_d = tl.program_id(1)
    rows = tl.arange(0, BLOCK_T)
    cols = tl.arange(0, BLOCK_D)
    offs_d = pid_d * CHUNK_D + cols
    mask_d = (cols < CHUNK_D) & (offs_d < D)
    base = pid_b.to(tl.int64) * T * D
    if HAS_H0:
        h_init = tl.load(h0_ptr + pid_b.to(tl.int64) * D + offs_d, mask=mask_d, other=0.0).to(ACC)
    else:
        h_init = tl.zeros((BLOCK_D,), dtype=ACC)
    carry = tl.zeros((BLOCK_D,), dtype=ACC)  # dh at the first step of the chunk after this one
    n_chunks = tl.cdiv(T, CHUNK_T)
    for i in range(0, n_chunks):
        c = n_chunks - 1 - i
        offs_t = c * CHUNK_T + rows
        valid_t = (rows < CHUNK_T) & (offs_t < T)
        mask = valid_t[:, None] & mask_d[None, :]
        offs = base + offs_t[:, None] * D + offs_d[None, :]
        dout = tl.load(dout_ptr + offs, mask=mask, other=0.0).to(ACC)
        # coefficient of dh_{t+1} in dh_t is a_{t+1}: 0 past the sequence's end, 1 (identity) on padding
        has_next = (valid_t & (offs_t + 1 < T))[:, None] & mask_d[None, :]
        a_next = tl.load(a_ptr + offs + D, mask=has_next, other=0.0).to(ACC)
        a_next = tl.where(valid_t[:, None], a_next, 1.0)
        a_cum, dh_loc = tl.associative_scan((a_next, dout), axis=0, combine_fn=linear_recurrence_combine,
                                            reverse=True)
        dh = dh_loc + a_cum * carry[None, :]
        tl.store(dx_ptr + offs, dh, mask=mask)
        h_prev = tl.load(h_ptr + offs - D, mask=mask & (offs_t[:, None] > 0), other=0.0).to(ACC)
        h_prev = tl.where(offs_t[:, None] == 0, h_init[None, :], h_prev)
        tl.store(da_ptr + offs, dh * h_prev, mask=mask)
        carry = _row(dh, rows, 0)
    if HAS_H0:
        a0 = tl.load(a_ptr + base + offs_d, mask=mask_d, other=0.0).to(ACC)
        tl.store(dh0_ptr + pid_b.to(tl.int64) * D + offs_d, a0 * carry, mask=mask_d)

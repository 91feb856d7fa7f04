"""Linear-RNN scan kernels: h_t = a_t * h_{t-1} + x_t over the time axis of (B, T, D) tensors.

Written in Triton's language: only the two imports differ from a Triton module, and the same file runs under
real Triton after rewriting them (mini_triton.kernels.triton_twin). Inputs (x, a, dout; h0 of shape (B, D))
are read through their strides, so views need no copy; outputs (h, dx, da, dh0) and the saved states h are
contiguous. Every program handles one (batch, D-block) pair and walks the time axis; the recurrence runs in
the accumulator dtype `ACC` (tl.float32, or tl.float64 for float64 inputs) and is stored in the output
pointer's dtype (tl.store converts).

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

Index arithmetic (B * T * D may exceed 2^31): everything that grows with the batch or time index is a 64-bit
scalar (`pid_b.to(tl.int64) * stride_b`, `tl.cast(t, tl.int64) * stride_t`) added to the base pointer first; the
per-element offsets inside one tile (rows * stride_t + cols * stride_d) stay 32-bit, which the host checks
(mini_triton.ops.scan makes an input contiguous, or refuses, when a tile's extent does not fit in int32).
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
def rnn_scan_fwd_seq_kernel(x_ptr, a_ptr, h0_ptr, h_ptr, T, D, stride_xb, stride_xt, stride_xd, stride_ab,
                            stride_at, stride_ad, stride_h0b, stride_h0d, HAS_H0: tl.constexpr,
                            ACC: tl.constexpr, BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0).to(tl.int64)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    mask_d = offs_d < D
    x_b = x_ptr + pid_b * stride_xb  # 64-bit: batch starts may lie past 2^31 elements
    a_b = a_ptr + pid_b * stride_ab
    h_b = h_ptr + pid_b * T * D
    x_cols = offs_d * stride_xd
    a_cols = offs_d * stride_ad
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b * stride_h0b + offs_d * stride_h0d, mask=mask_d, other=0.0).to(ACC)
    else:
        h = tl.zeros((BLOCK_D,), dtype=ACC)
    for t in range(T):
        t64 = tl.cast(t, tl.int64)  # t is a Python int under Triton's interpreter: no .to()
        a = tl.load(a_b + t64 * stride_at + a_cols, mask=mask_d, other=0.0).to(ACC)
        x = tl.load(x_b + t64 * stride_xt + x_cols, mask=mask_d, other=0.0).to(ACC)
        h = a * h + x
        tl.store(h_b + t64 * D + offs_d, h, mask=mask_d)


@triton.jit
def rnn_scan_fwd_chunked_kernel(x_ptr, a_ptr, h0_ptr, h_ptr, T, D, stride_xb, stride_xt, stride_xd,
                                stride_ab, stride_at, stride_ad, stride_h0b, stride_h0d, HAS_H0: tl.constexpr,
                                ACC: tl.constexpr, CHUNK_T: tl.constexpr, CHUNK_D: tl.constexpr,
                                BLOCK_T: tl.constexpr, BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0).to(tl.int64)
    pid_d = tl.program_id(1)
    rows = tl.arange(0, BLOCK_T)
    cols = tl.arange(0, BLOCK_D)
    offs_d = pid_d * CHUNK_D + cols
    mask_d = (cols < CHUNK_D) & (offs_d < D)
    x_b = x_ptr + pid_b * stride_xb
    a_b = a_ptr + pid_b * stride_ab
    h_b = h_ptr + pid_b * T * D
    x_tile = rows[:, None] * stride_xt + offs_d[None, :] * stride_xd  # 32-bit offsets inside one chunk
    a_tile = rows[:, None] * stride_at + offs_d[None, :] * stride_ad
    h_tile = rows[:, None] * D + offs_d[None, :]
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b * stride_h0b + offs_d * stride_h0d, mask=mask_d, other=0.0).to(ACC)
    else:
        h = tl.zeros((BLOCK_D,), dtype=ACC)
    for c in range(0, tl.cdiv(T, CHUNK_T)):
        t0 = c * CHUNK_T
        offs_t = t0 + rows
        valid_t = (rows < CHUNK_T) & (offs_t < T)
        mask = valid_t[:, None] & mask_d[None, :]
        t0_64 = tl.cast(t0, tl.int64)
        a = tl.load(a_b + t0_64 * stride_at + a_tile, mask=mask, other=1.0).to(ACC)
        x = tl.load(x_b + t0_64 * stride_xt + x_tile, mask=mask, other=0.0).to(ACC)
        # a_cum_t = a_0 * ... * a_t and h_loc_t = the state from a zero start, within the chunk
        a_cum, h_loc = tl.associative_scan((a, x), axis=0, combine_fn=linear_recurrence_combine)
        hs = h_loc + a_cum * h[None, :]
        tl.store(h_b + t0_64 * D + h_tile, hs, mask=mask)
        h = _row(hs, rows, BLOCK_T - 1)


@triton.jit
def _lookback_carry(slot_ptr, epoch, ACC: tl.constexpr):
    """The carry another program published into `slot_ptr` (a BLOCK_D vector of int64 words) with `epoch`:
    polls the slot (atomic reads, never cached) until every word carries the epoch in its high half, then
    returns the float32 values in the low halves."""
    w = tl.atomic_or(slot_ptr, 0, sem="relaxed")
    while tl.min((w >> 32).to(tl.int32), axis=0) != epoch:
        w = tl.atomic_or(slot_ptr, 0, sem="relaxed")
    return w.to(tl.int32).to(tl.float32, bitcast=True).to(ACC)


@triton.jit
def _lookback_publish(slot_ptr, epoch, value):
    """Publishes a float32 vector for _lookback_carry: each int64 word holds the epoch (high half) and the
    value's bits (low half), written by one atomic, so that a reader sees a value only with its epoch."""
    bits = value.to(tl.float32).to(tl.int32, bitcast=True).to(tl.int64) & 0xFFFFFFFF
    tl.atomic_xchg(slot_ptr, (tl.cast(epoch, tl.int64) << 32) | bits, sem="relaxed")


@triton.jit
def _lookback_chunk(state_ptr, T, D, n_d, n_cols, CHUNK_T: tl.constexpr, CHUNK_D: tl.constexpr,
                    BLOCK_T: tl.constexpr, BLOCK_D: tl.constexpr, REVERSE: tl.constexpr):
    """The chunk a lookback program handles: takes the next ticket (state_ptr[0]) and returns (i, c, col,
    pid_b, rows, cols, offs_d, mask_d, t0, valid_t): i the chunk's place in the chain, c its index along time
    (i, or n_chunks - 1 - i when REVERSE), col its column block (batch pid_b, columns offs_d)."""
    ticket = tl.atomic_add(state_ptr, 1, sem="relaxed").to(tl.int32)
    i = ticket // n_cols
    col = ticket % n_cols
    if REVERSE:
        c = tl.cdiv(T, CHUNK_T) - 1 - i
    else:
        c = i
    rows = tl.arange(0, BLOCK_T)
    cols = tl.arange(0, BLOCK_D)
    offs_d = (col % n_d) * CHUNK_D + cols
    mask_d = (cols < CHUNK_D) & (offs_d < D)
    t0 = c * CHUNK_T
    valid_t = (rows < CHUNK_T) & (t0 + rows < T)
    return i, c, col, (col // n_d).to(tl.int64), rows, cols, offs_d, mask_d, t0, valid_t


@triton.jit
def rnn_scan_fwd_lookback_kernel(x_ptr, a_ptr, h0_ptr, h_ptr, state_ptr, T, D, n_d, n_cols, stride_xb, stride_xt,
                                 stride_xd, stride_ab, stride_at, stride_ad, stride_h0b, stride_h0d,
                                 HAS_H0: tl.constexpr, ACC: tl.constexpr, CHUNK_T: tl.constexpr,
                                 CHUNK_D: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_D: tl.constexpr):
    """The chunked forward scan with every chunk its own program (cdiv(T, CHUNK_T) * B * n_d of them, a 1-D
    grid): all chunks load and scan at once, and only the carries pass from chunk to chunk.

    state_ptr: zeroed int64 words, [0] a ticket counter, then per column block (n_cols = B * n_d of them) two
    slots of BLOCK_D words. Programs take tickets in launch order and handle tickets chunk-major, so a chunk's
    predecessor (same columns, previous chunk) holds an earlier ticket: it is running or done, and the wait
    for its carry cannot deadlock. Chunk c publishes its last state into slot c % 2 with epoch c + 1; the
    slot is rewritten only by chunk c + 2, which first waits for chunk c + 1, which read it before publishing.
    Needs ACC = float32 (a carry and its epoch share one 64-bit word)."""
    _, c, col, pid_b, rows, cols, offs_d, mask_d, t0, valid_t = _lookback_chunk(
        state_ptr, T, D, n_d, n_cols, CHUNK_T, CHUNK_D, BLOCK_T, BLOCK_D, False)
    mask = valid_t[:, None] & mask_d[None, :]
    t0_64 = tl.cast(t0, tl.int64)
    a_tile = rows[:, None] * stride_at + offs_d[None, :] * stride_ad  # 32-bit offsets inside one chunk
    x_tile = rows[:, None] * stride_xt + offs_d[None, :] * stride_xd
    a = tl.load(a_ptr + pid_b * stride_ab + t0_64 * stride_at + a_tile, mask=mask, other=1.0).to(ACC)
    x = tl.load(x_ptr + pid_b * stride_xb + t0_64 * stride_xt + x_tile, mask=mask, other=0.0).to(ACC)
    a_cum, h_loc = tl.associative_scan((a, x), axis=0, combine_fn=linear_recurrence_combine)
    slots = state_ptr + 1 + col * (2 * BLOCK_D) + cols
    if c == 0:
        if HAS_H0:
            h = tl.load(h0_ptr + pid_b * stride_h0b + offs_d * stride_h0d, mask=mask_d, other=0.0).to(ACC)
        else:
            h = tl.zeros((BLOCK_D,), dtype=ACC)
    else:
        h = _lookback_carry(slots + ((c - 1) % 2) * BLOCK_D, c, ACC)
    hs = h_loc + a_cum * h[None, :]
    if t0 + CHUNK_T < T:
        _lookback_publish(slots + (c % 2) * BLOCK_D, c + 1, _row(hs, rows, BLOCK_T - 1))
    tl.store(h_ptr + pid_b * T * D + t0_64 * D + (rows[:, None] * D + offs_d[None, :]), hs, mask=mask)


@triton.jit
def rnn_scan_bwd_seq_kernel(dout_ptr, a_ptr, h_ptr, h0_ptr, dx_ptr, da_ptr, dh0_ptr, T, D, stride_gb,
                            stride_gt, stride_gd, stride_ab, stride_at, stride_ad, stride_h0b, stride_h0d,
                            HAS_H0: tl.constexpr, ACC: tl.constexpr, BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0).to(tl.int64)
    pid_d = tl.program_id(1)
    offs_d = pid_d * BLOCK_D + tl.arange(0, BLOCK_D)
    mask_d = offs_d < D
    g_b = dout_ptr + pid_b * stride_gb
    a_b = a_ptr + pid_b * stride_ab
    out_b = pid_b * T * D  # h, dx and da are contiguous
    g_cols = offs_d * stride_gd
    a_cols = offs_d * stride_ad
    if HAS_H0:
        h_init = tl.load(h0_ptr + pid_b * stride_h0b + offs_d * stride_h0d, mask=mask_d, other=0.0).to(ACC)
    else:
        h_init = tl.zeros((BLOCK_D,), dtype=ACC)
    g = tl.zeros((BLOCK_D,), dtype=ACC)  # a_{t+1} * dh_{t+1}
    for i in range(T):
        t = T - 1 - i
        t64 = tl.cast(t, tl.int64)  # t is a Python int under Triton's interpreter: no .to()
        dh = tl.load(g_b + t64 * stride_gt + g_cols, mask=mask_d, other=0.0).to(ACC) + g
        a = tl.load(a_b + t64 * stride_at + a_cols, mask=mask_d, other=0.0).to(ACC)
        prev = out_b + tl.maximum(t64 - 1, 0) * D
        h_prev = tl.load(h_ptr + prev + offs_d, mask=mask_d, other=0.0).to(ACC)
        h_prev = tl.where(t > 0, h_prev, h_init)
        tl.store(dx_ptr + (out_b + t64 * D) + offs_d, dh, mask=mask_d)
        tl.store(da_ptr + (out_b + t64 * D) + offs_d, dh * h_prev, mask=mask_d)
        g = a * dh
    if HAS_H0:
        tl.store(dh0_ptr + pid_b * D + offs_d, g, mask=mask_d)


@triton.jit
def rnn_scan_bwd_chunked_kernel(dout_ptr, a_ptr, h_ptr, h0_ptr, dx_ptr, da_ptr, dh0_ptr, T, D, stride_gb,
                                stride_gt, stride_gd, stride_ab, stride_at, stride_ad, stride_h0b, stride_h0d,
                                HAS_H0: tl.constexpr, ACC: tl.constexpr, CHUNK_T: tl.constexpr,
                                CHUNK_D: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_D: tl.constexpr):
    pid_b = tl.program_id(0).to(tl.int64)
    pid_d = tl.program_id(1)
    rows = tl.arange(0, BLOCK_T)
    cols = tl.arange(0, BLOCK_D)
    offs_d = pid_d * CHUNK_D + cols
    mask_d = (cols < CHUNK_D) & (offs_d < D)
    g_b = dout_ptr + pid_b * stride_gb
    a_b = a_ptr + pid_b * stride_ab
    out_b = pid_b * T * D
    g_tile = rows[:, None] * stride_gt + offs_d[None, :] * stride_gd
    a_tile = rows[:, None] * stride_at + offs_d[None, :] * stride_ad
    o_tile = rows[:, None] * D + offs_d[None, :]
    if HAS_H0:
        h_init = tl.load(h0_ptr + pid_b * stride_h0b + offs_d * stride_h0d, mask=mask_d, other=0.0).to(ACC)
    else:
        h_init = tl.zeros((BLOCK_D,), dtype=ACC)
    carry = tl.zeros((BLOCK_D,), dtype=ACC)  # dh at the first step of the chunk after this one
    n_chunks = tl.cdiv(T, CHUNK_T)
    for i in range(0, n_chunks):
        c = n_chunks - 1 - i
        t0 = c * CHUNK_T
        offs_t = t0 + rows
        valid_t = (rows < CHUNK_T) & (offs_t < T)
        mask = valid_t[:, None] & mask_d[None, :]
        t0_64 = tl.cast(t0, tl.int64)
        dout = tl.load(g_b + t0_64 * stride_gt + g_tile, mask=mask, other=0.0).to(ACC)
        # coefficient of dh_{t+1} in dh_t is a_{t+1}: 0 past the sequence's end, 1 (identity) on padding
        has_next = (valid_t & (offs_t + 1 < T))[:, None] & mask_d[None, :]
        a_next = tl.load(a_b + (t0_64 + 1) * stride_at + a_tile, mask=has_next, other=0.0).to(ACC)
        a_next = tl.where(valid_t[:, None], a_next, 1.0)
        a_cum, dh_loc = tl.associative_scan((a_next, dout), axis=0, combine_fn=linear_recurrence_combine,
                                            reverse=True)
        dh = dh_loc + a_cum * carry[None, :]
        o_c = out_b + t0_64 * D
        tl.store(dx_ptr + o_c + o_tile, dh, mask=mask)
        h_prev = tl.load(h_ptr + (o_c - D) + o_tile, mask=mask & (offs_t[:, None] > 0), other=0.0).to(ACC)
        h_prev = tl.where(offs_t[:, None] == 0, h_init[None, :], h_prev)
        tl.store(da_ptr + o_c + o_tile, dh * h_prev, mask=mask)
        carry = _row(dh, rows, 0)
    if HAS_H0:
        a0 = tl.load(a_b + offs_d * stride_ad, mask=mask_d, other=0.0).to(ACC)
        tl.store(dh0_ptr + pid_b * D + offs_d, a0 * carry, mask=mask_d)


@triton.jit
def rnn_scan_bwd_lookback_kernel(dout_ptr, a_ptr, h_ptr, h0_ptr, dx_ptr, da_ptr, dh0_ptr, state_ptr, T, D, n_d,
                                 n_cols, stride_gb, stride_gt, stride_gd, stride_ab, stride_at, stride_ad,
                                 stride_h0b, stride_h0d, HAS_H0: tl.constexpr, ACC: tl.constexpr,
                                 CHUNK_T: tl.constexpr, CHUNK_D: tl.constexpr, BLOCK_T: tl.constexpr,
                                 BLOCK_D: tl.constexpr):
    """The chunked backward scan with every chunk its own program, as rnn_scan_fwd_lookback_kernel: tickets
    are handed out last chunk first, and the i-th chunk handled (c = n_chunks - 1 - i) passes dh at its first
    step to chunk c - 1 through slot i % 2 with epoch i + 1."""
    i, c, col, pid_b, rows, cols, offs_d, mask_d, t0, valid_t = _lookback_chunk(
        state_ptr, T, D, n_d, n_cols, CHUNK_T, CHUNK_D, BLOCK_T, BLOCK_D, True)
    offs_t = t0 + rows
    mask = valid_t[:, None] & mask_d[None, :]
    t0_64 = tl.cast(t0, tl.int64)
    g_tile = rows[:, None] * stride_gt + offs_d[None, :] * stride_gd  # 32-bit offsets inside one chunk
    a_tile = rows[:, None] * stride_at + offs_d[None, :] * stride_ad
    o_tile = rows[:, None] * D + offs_d[None, :]
    a_b = a_ptr + pid_b * stride_ab
    dout = tl.load(dout_ptr + pid_b * stride_gb + t0_64 * stride_gt + g_tile, mask=mask, other=0.0).to(ACC)
    # coefficient of dh_{t+1} in dh_t is a_{t+1}: 0 past the sequence's end, 1 (identity) on padding
    has_next = (valid_t & (offs_t + 1 < T))[:, None] & mask_d[None, :]
    a_next = tl.load(a_b + (t0_64 + 1) * stride_at + a_tile, mask=has_next, other=0.0).to(ACC)
    a_next = tl.where(valid_t[:, None], a_next, 1.0)
    o_c = pid_b * T * D + t0_64 * D
    h_prev = tl.load(h_ptr + (o_c - D) + o_tile, mask=mask & (offs_t[:, None] > 0), other=0.0).to(ACC)
    if c == 0:
        if HAS_H0:
            h_init = tl.load(h0_ptr + pid_b * stride_h0b + offs_d * stride_h0d, mask=mask_d, other=0.0).to(ACC)
            h_prev = tl.where(offs_t[:, None] == 0, h_init[None, :], h_prev)
    a_cum, dh_loc = tl.associative_scan((a_next, dout), axis=0, combine_fn=linear_recurrence_combine,
                                        reverse=True)
    slots = state_ptr + 1 + col * (2 * BLOCK_D) + cols
    if i == 0:
        carry = tl.zeros((BLOCK_D,), dtype=ACC)
    else:
        carry = _lookback_carry(slots + ((i - 1) % 2) * BLOCK_D, i, ACC)
    dh = dh_loc + a_cum * carry[None, :]
    first = _row(dh, rows, 0)
    if c > 0:
        _lookback_publish(slots + (i % 2) * BLOCK_D, i + 1, first)
    tl.store(dx_ptr + o_c + o_tile, dh, mask=mask)
    tl.store(da_ptr + o_c + o_tile, dh * h_prev, mask=mask)
    if HAS_H0:
        if c == 0:
            a0 = tl.load(a_b + offs_d * stride_ad, mask=mask_d, other=0.0).to(ACC)
            tl.store(dh0_ptr + pid_b * D + offs_d, a0 * first, mask=mask_d)

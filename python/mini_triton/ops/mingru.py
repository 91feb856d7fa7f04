"""Chunked MinGRU recurrence h_t = a_t * h_{t-1} + b_t (h_{-1} = 0) and a MinGRU layer.

    from mini_triton.ops.mingru import mingru_chunked, MinGRU

    h = mingru_chunked(a, b, T_chunk_size=8, D_chunk_size=8, backward_use_scan=True)   # (B, T, D)
    layer = MinGRU(input_size=16, hidden_size=32)                                       # nn.Module
    h = layer(x)                                                                        # x: (B, T, 16)

The forward pass runs `rnn_scan_fwd_chunked_kernel`: one program per (batch, D chunk of D_chunk_size
columns) scans chunks of T_chunk_size time steps with tl.associative_scan and carries the last state into the
next chunk. The backward pass aggregates the gradient from the end of the sequence either with the reverse
chunked associative scan (backward_use_scan=True) or with a sequential reverse loop (False). Both compute

    dh_t = dL/dh_t + a_{t+1} * dh_{t+1},   db_t = dh_t,   da_t = dh_t * h_{t-1}   (h_{-1} = 0),

i.e. the coefficient of the reverse recurrence is a shifted by one step, so the gradients are right for any
a (not only constant a), and the two modes agree to rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mini_triton.ops.scan import RnnScanFunction, _as_tensor, _check, use_lookback

__all__ = ["mingru_chunked", "MinGRU", "mingru_reference", "mingru_log_space_reference", "log_g"]


def mingru_chunked(a, b, T_chunk_size: int, D_chunk_size: int, backward_use_scan: bool = True, *, kernels=None,
                   num_warps=None, lookback=None) -> torch.Tensor:
    """Every state of h_t = a_t * h_{t-1} + b_t, h_{-1} = 0, for a, b of shape (B, T, D); differentiable in a
    and b. T_chunk_size / D_chunk_size: the chunk of time steps / columns one scan step covers (any positive
    sizes; tiles are rounded up to powers of two and masked). NumPy inputs give a NumPy result (no autograd).
    a and b are read through their strides (views such as torch.chunk halves need no copy); kernels /
    num_warps: see mini_triton.ops.scan (another build of the kernel source, e.g. its Triton twin).
    lookback=True: every chunk its own program (associative_rnn_scan(..., lookback=True)), forward and, with
    backward_use_scan, backward; None (default): on a GPU for T >= mini_triton.ops.scan.LOOKBACK_MIN_T and
    chunks of 1024 elements or more."""
    T_chunk_size, D_chunk_size = int(T_chunk_size), int(D_chunk_size)
    if T_chunk_size < 1 or D_chunk_size < 1:
        raise ValueError(f"chunk sizes must be positive, got T_chunk_size={T_chunk_size}, "
                         f"D_chunk_size={D_chunk_size}")
    numpy_in = not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor)
    a_t, b_t = _as_tensor(a, "a"), _as_tensor(b, "b")
    _check(b_t, a_t, None)
    fwd_mode = "lookback" if use_lookback(b_t, lookback, T_chunk_size, D_chunk_size) else "chunked"
    bwd_mode = fwd_mode if backward_use_scan else "sequential"
    if numpy_in:
        with torch.no_grad():
            return RnnScanFunction.apply(b_t, a_t, None, fwd_mode, bwd_mode, T_chunk_size, D_chunk_size,
                                         None, kernels, num_warps).numpy()
    return RnnScanFunction.apply(b_t, a_t, None, fwd_mode, bwd_mode, T_chunk_size, D_chunk_size, None, kernels,
                                 num_warps)


def mingru_reference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """h_t = a_t * h_{t-1} + b_t in plain torch (a loop over t, in a's dtype; differentiable)."""
    h = torch.zeros_like(b[:, 0])
    out = []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return torch.stack(out, dim=1)


def log_g(x: torch.Tensor) -> torch.Tensor:
    """log g(x) for the paper's g(x) = x + 0.5 (x >= 0), sigmoid(x) (x < 0), which keeps h~ positive."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def mingru_log_space_reference(k: torch.Tensor, h_tilde_pre: torch.Tensor, h0=None) -> torch.Tensor:
    """The paper's log-space parallel MinGRU (pure torch): log a = -softplus(k), log b = -softplus(-k) +
    log g(h~), h = exp(a* + logcumsumexp(log b - a*)) with a* = cumsum(log a). h0 (B, D), if given, must be
    positive."""
    log_a = -F.softplus(k)
    log_b = -F.softplus(-k) + log_g(h_tilde_pre)
    if h0 is not None:
        log_a = torch.cat([torch.zeros_like(log_a[:, :1]), log_a], dim=1)
        log_b = torch.cat([torch.log(h0).unsqueeze(1), log_b], dim=1)
    a_star = torch.cumsum(log_a, dim=1)
    log_h = a_star + torch.logcumsumexp(log_b - a_star, dim=1)
    h = torch.exp(log_h)
    return h[:, 1:] if h0 is not None else h


class MinGRU(nn.Module):
    """minGRU (Feng et al. 2024, "Were RNNs all we needed?"), the recurrence run by mingru_chunked.

    z_t = sigmoid(W_z x_t), h~_t = W_h x_t, h_t = (1 - z_t) * h_{t-1} + z_t * h~_t.

    log_space=True uses the paper's log-space parametrisation: the gates are formed in log space with torch
    ops, log a_t = log(1 - z_t) = -softplus(k_t), log b_t = log z_t + log g(h~_t) = -softplus(-k_t) +
    log g(h~_t) with g(x) = x + 0.5 (x >= 0) / sigmoid(x) (x < 0), and then a = exp(log a), b = exp(log b)
    go through the same chunked scan. The result equals the paper's logcumsumexp form
    (mingru_log_space_reference) without its log/exp of the running state.

    forward(x, h0=None): x (B, T, input_size) -> h (B, T, hidden_size); h0: optional (B, hidden_size).
    """

    def __init__(self, input_size: int, hidden_size: int, *, bias: bool = True, log_space: bool = False,
                 T_chunk_size: int = 16, D_chunk_size: int = 32, backward_use_scan: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.log_space = log_space
        self.T_chunk_size, self.D_chunk_size = T_chunk_size, D_chunk_size
        self.backward_use_scan = backward_use_scan
        self.linear_z = nn.Linear(input_size, hidden_size, bias=bias, device=device, dtype=dtype)
        self.linear_h = nn.Linear(input_size, hidden_size, bias=bias, device=device, dtype=dtype)

    def gates(self, x: torch.Tensor):
        """The recurrence's (a, b) for input x."""
        k = self.linear_z(x)
        h_tilde = self.linear_h(x)
        if self.log_space:
            return torch.exp(-F.softplus(k)), torch.exp(-F.softplus(-k) + log_g(h_tilde))
        z = torch.sigmoid(k)
        return 1 - z, z * h_tilde

    def forward(self, x: torch.Tensor, h0=None) -> torch.Tensor:
        a, b = self.gates(x)
        if h0 is not None:  # h_0 = a_0 h0 + b_0: fold the initial state into the first input
            b = torch.cat([b[:, :1] + a[:, :1] * h0.unsqueeze(1), b[:, 1:]], dim=1)
        return mingru_chunked(a, b, self.T_chunk_size, self.D_chunk_size, self.backward_use_scan)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, log_space={self.log_space}, "
                f"T_chunk_size={self.T_chunk_size}, D_chunk_size={self.D_chunk_size}")

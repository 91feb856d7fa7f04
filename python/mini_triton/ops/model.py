"""Language models over the kernel library, switchable op by op between our kernels and pure PyTorch.

    from mini_triton.ops.select import ModelConfig
    from mini_triton.ops.model import TransformerLM, MinGRULM, build_model, make_optimizer

    cfg = ModelConfig(vocab_size=256)          # use_triton_* flags pick our kernel or PyTorch per op
    model = TransformerLM(cfg)                 # pre-norm LLaMA-style: RMSNorm, RoPE, causal attention, SwiGLU
    logits = model(tokens)                     # tokens (B, S) int64 -> (B, S, vocab)
    opt = make_optimizer(model, cfg)           # Muon for the blocks' 2-D matrices, AdamW for the rest

With a use_triton_* flag on, the op goes through mini_triton.ops.library (torch custom ops, our kernels, PyTorch
fallback on a kernel error); off, through the pure-PyTorch version of the same computation. Both paths share
parameters and initialisation, so one seed gives the same starting model either way. Under CUDA autocast the
inputs of the matmul-like kernels (attention, SwiGLU matmul) are cast to the autocast dtype as torch's own
matmuls would be; RMSNorm runs on the float32 residual stream.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mini_triton.ops import library as L
from mini_triton.ops.llm import rope_tables
from mini_triton.ops.select import ModelConfig

__all__ = ["RMSNormLayer", "RotaryLayer", "SwiGLULayer", "AttentionLayer", "TransformerBlock", "TransformerLM",
           "MinGRUBlock", "MinGRULM", "build_model", "make_optimizer"]


def _amp_cast(*ts):
    """Casts to the autocast dtype when autocast is on for the tensors' device (our custom ops are not autocast
    aware)."""
    dev = ts[0].device.type
    try:
        on = torch.is_autocast_enabled(dev)
    except TypeError:  # torch < 2.4: no device argument
        on = torch.is_autocast_enabled() if dev == "cuda" else False
    if not on:
        return ts
    dt = torch.get_autocast_dtype(dev) if hasattr(torch, "get_autocast_dtype") else torch.get_autocast_gpu_dtype()
    return tuple(t.to(dt) for t in ts)


def _uniform_(w: torch.Tensor) -> torch.Tensor:
    bound = 1.0 / math.sqrt(w.shape[0])
    return nn.init.uniform_(w, -bound, bound)


class RMSNormLayer(nn.Module):
    """RMSNorm over the last axis (weight initialised to ones); our kernel or PyTorch per use_triton."""

    def __init__(self, dim: int, eps: float = 1e-6, use_triton: bool = True):
        super().__init__()
        self.eps, self.use_triton = eps, use_triton
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        fn = L.rms_norm if self.use_triton else L.rms_norm_torch
        return fn(x, self.weight, self.eps)


class RotaryLayer(nn.Module):
    """Rotate-half RoPE of q, k (B, S, H, D) with precomputed (max_seq_len, D // 2) float32 tables."""

    def __init__(self, head_dim: int, max_seq_len: int, base: float = 10000.0, use_triton: bool = True):
        super().__init__()
        self.use_triton = use_triton
        cos, sin = rope_tables(head_dim, max_seq_len, base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, q, k):
        fn = L.apply_rotary if self.use_triton else L.apply_rotary_torch
        return fn(q, k, self.cos, self.sin)


class SwiGLULayer(nn.Module):
    """(silu(x @ W1) * (x @ W3)) @ W2, weights stored (in, out); use_triton: the gate fused into our matmul
    kernel (fused) or our elementwise gate kernel after torch matmuls."""

    def __init__(self, d_model: int, d_ff: int, use_triton: bool = True, fused: bool = True):
        super().__init__()
        self.use_triton, self.fused = use_triton, fused
        self.w1 = nn.Parameter(_uniform_(torch.empty(d_model, d_ff)))
        self.w3 = nn.Parameter(_uniform_(torch.empty(d_model, d_ff)))
        self.w2 = nn.Parameter(_uniform_(torch.empty(d_ff, d_model)))

    def forward(self, x):
        if not self.use_triton:
            h = L.swiglu_matmul_torch(x, self.w1, self.w3)
        elif self.fused:
            h = L.swiglu_matmul(*_amp_cast(x, self.w1, self.w3))
        else:
            h = L.swiglu(*_amp_cast(x @ self.w1, x @ self.w3))
        return h @ self.w2


class AttentionLayer(nn.Module):
    """Multi-head causal self-attention: x @ W_qkv, RoPE on q and k, attention, @ W_o."""

    def __init__(self, d_model: int, n_heads: int, max_seq_len: int, rope_base: float = 10000.0,
                 use_triton_rotary: bool = True, use_triton_attention: bool = True):
        super().__init__()
        self.n_heads, self.head_dim = n_heads, d_model // n_heads
        self.use_triton_attention = use_triton_attention
        self.rope = RotaryLayer(self.head_dim, max_seq_len, rope_base, use_triton_rotary)
        self.w_qkv = nn.Parameter(_uniform_(torch.empty(d_model, 3 * d_model)))
        self.w_o = nn.Parameter(_uniform_(torch.empty(d_model, d_model)))

    def forward(self, x):
        B, S, D = x.shape
        q, k, v = (x @ self.w_qkv).reshape(B, S, 3, self.n_heads, self.head_dim).unbind(2)
        q, k = self.rope(q, k)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, H, S, d)
        if self.use_triton_attention:
            o = L.flash_attention(*_amp_cast(q, k, v), causal=True)
        else:
            o = L.attention_torch(q, k, v, causal=True)
        return o.transpose(1, 2).reshape(B, S, D) @ self.w_o


class TransformerBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.norm1 = RMSNormLayer(cfg.d_model, cfg.norm_eps, cfg.use_triton_rmsnorm)
        self.attn = AttentionLayer(cfg.d_model, cfg.n_heads, cfg.max_seq_len, cfg.rope_base, cfg.use_triton_rotary,
                                   cfg.use_triton_attention)
        self.norm2 = RMSNormLayer(cfg.d_model, cfg.norm_eps, cfg.use_triton_rmsnorm)
        self.mlp = SwiGLULayer(cfg.d_model, cfg.d_ff, cfg.use_triton_mlp, cfg.fused_mlp)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        x = x + self.drop(self.attn(self.norm1(x)))
        return x + self.drop(self.mlp(self.norm2(x)))


class _LMBase(nn.Module):
    def __init__(self, cfg: ModelConfig, blocks):
        super().__init__()
        if not cfg.vocab_size:
            raise ValueError("ModelConfig.vocab_size must be set")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = nn.ModuleList(blocks)
        self.norm = RMSNormLayer(cfg.d_model, cfg.norm_eps, cfg.use_triton_rmsnorm)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.norm(x) @ self.embed.weight.t()  # tied output head

    def loss(self, tokens, targets):
        logits = self(tokens)
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))


class TransformerLM(_LMBase):
    """Decoder-only transformer: embedding, n_layers pre-norm blocks, final RMSNorm, tied head."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg, [TransformerBlock(cfg) for _ in range(cfg.n_layers)])


class MinGRUBlock(nn.Module):
    """x + MinGRU(RMSNorm(x)), then x + SwiGLU(RMSNorm(x)). The recurrence runs mingru_chunked (our chunked scan
    kernel) when use_triton (the config's use_triton_attention slot: it is the sequence mixer), else a PyTorch
    loop over time."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        from mini_triton.ops.mingru import MinGRU
        self.use_triton = cfg.use_triton_attention
        self.norm1 = RMSNormLayer(cfg.d_model, cfg.norm_eps, cfg.use_triton_rmsnorm)
        self.rnn = MinGRU(cfg.d_model, cfg.d_model, T_chunk_size=16, D_chunk_size=32)
        self.norm2 = RMSNormLayer(cfg.d_model, cfg.norm_eps, cfg.use_triton_rmsnorm)
        self.mlp = SwiGLULayer(cfg.d_model, cfg.d_ff, cfg.use_triton_mlp, cfg.fused_mlp)

    def mix(self, x):
        if self.use_triton:
            return self.rnn(x)
        from mini_triton.ops.mingru import mingru_reference
        a, b = self.rnn.gates(x)
        return mingru_reference(a.float(), b.float()).to(b.dtype)

    def forward(self, x):
        x = x + self.mix(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class MinGRULM(_LMBase):
    """MinGRU language model: embedding, n_layers MinGRU blocks, final RMSNorm, tied head."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg, [MinGRUBlock(cfg) for _ in range(cfg.n_layers)])


def build_model(kind: str, cfg: ModelConfig) -> nn.Module:
    if kind == "transformer":
        return TransformerLM(cfg)
    if kind == "mingru":
        return MinGRULM(cfg)
    raise ValueError(f"unknown model {kind!r} (transformer, mingru)")


def make_optimizer(model: nn.Module, cfg: ModelConfig):
    """Muon (momentum 0.95, Nesterov, Newton-Schulz through our kernel when cfg.use_triton_newton_schulz) for the
    2-D matrices inside the blocks; AdamW for the embedding (= tied head), the norms and biases."""
    from mini_triton.ops.muon import Muon
    matrices = [p for n, p in model.named_parameters() if p.dim() == 2 and n.startswith("blocks.")]
    ids = {id(p) for p in matrices}
    others = [p for p in model.parameters() if id(p) not in ids]
    decay = [p for p in others if p.dim() >= 2]
    no_decay = [p for p in others if p.dim() < 2]
    adamw = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                               {"params": no_decay, "weight_decay": 0.0}], lr=cfg.adamw_lr, betas=(0.9, 0.95))
    ortho = L.newton_schulz if cfg.use_triton_newton_schulz else L.newton_schulz_torch
    return Muon(matrices, lr=cfg.muon_lr, momentum=cfg.muon_momentum, nesterov=True, adamw=adamw,
                orthogonalize=ortho)

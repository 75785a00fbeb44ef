"""Qwen3-MoE in PyTorch, exactly the math llama.cpp's `qwen3moe` graph computes (moe-reference.md A.1, A.4,
A.5), so the exported GGUF runs unchanged in switchyard and in llama.cpp:

    x = token_embd[t]
    per layer:  h = rms(x)·attn_norm;  q,k,v = Wq h, Wk h, Wv h  (GQA: Hkv < H heads of head_dim)
                q, k: RMSNorm per head (weights of length head_dim), then NEOX RoPE over the whole head
                x += Wo · softmax(q·kᵀ/√head_dim, causal) · v
                h = rms(x)·ffn_norm;  p = softmax(W_router h);  top-k of p, weights renormalised to sum 1
                x += Σ_j w_j · Down_e(silu(Gate_e h) ⊙ Up_e h)
    logits = output · (rms(x)·output_norm)
All norms use eps = 1e-6. Parameter layouts are those of the GGUF tensors (ggml ne reversed), so export is
a plain copy: experts are [E, f, d] (gate, up) and [E, d, f] (down), the router is [E, d].
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab_size: int = 8000
    n_embd: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: int = 64
    n_expert: int = 8
    n_expert_used: int = 2
    expert_ff: int = 384
    context: int = 256
    rope_base: float = 10000.0
    norm_eps: float = 1e-6

    def to_dict(self):
        return asdict(self)


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rope_tables(head_dim, context, base):
    """cos/sin [context, head_dim/2] for NEOX RoPE: pair (i, i + head_dim/2) turns by pos·base^(-2i/head_dim)."""
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    angles = torch.arange(context, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(angles).float(), torch.sin(angles).float()


def apply_rope(x, cos, sin):
    """x [B, heads, T, head_dim]; NEOX layout: first half and second half form the rotated pairs."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wq = nn.Linear(c.n_embd, c.n_head * c.head_dim, bias=False)
        self.wk = nn.Linear(c.n_embd, c.n_head_kv * c.head_dim, bias=False)
        self.wv = nn.Linear(c.n_embd, c.n_head_kv * c.head_dim, bias=False)
        self.wo = nn.Linear(c.n_head * c.head_dim, c.n_embd, bias=False)
        self.q_norm = nn.Parameter(torch.ones(c.head_dim))
        self.k_norm = nn.Parameter(torch.ones(c.head_dim))

    def forward(self, h, cos, sin, mask):
        c = self.c
        B, T, _ = h.shape
        q = self.wq(h).view(B, T, c.n_head, c.head_dim)
        k = self.wk(h).view(B, T, c.n_head_kv, c.head_dim)
        v = self.wv(h).view(B, T, c.n_head_kv, c.head_dim).transpose(1, 2)
        q = apply_rope(rms_norm(q, self.q_norm, c.norm_eps).transpose(1, 2), cos, sin)
        k = apply_rope(rms_norm(k, self.k_norm, c.norm_eps).transpose(1, 2), cos, sin)
        group = c.n_head // c.n_head_kv  # query head j reads kv head j // group, as ggml broadcasts
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(c.head_dim)) + mask
        out = torch.softmax(scores, dim=-1) @ v
        return self.wo(out.transpose(1, 2).reshape(B, T, c.n_head * c.head_dim))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.router = nn.Linear(c.n_embd, c.n_expert, bias=False)
        self.gate = nn.Parameter(torch.empty(c.n_expert, c.expert_ff, c.n_embd))
        self.up = nn.Parameter(torch.empty(c.n_expert, c.expert_ff, c.n_embd))
        self.down = nn.Parameter(torch.empty(c.n_expert, c.n_embd, c.expert_ff))

    def forward(self, h):
        """h [N, d] -> (out [N, d], aux loss, expert counts [E], selected ids [N, k])."""
        c = self.c
        probs = torch.softmax(self.router(h), dim=-1)                       # [N, E]
        top_w, top_i = torch.topk(probs, c.n_expert_used, dim=-1)           # [N, k]
        top_w = top_w / top_w.sum(-1, keepdim=True)
        out = torch.zeros_like(h)
        flat_i = top_i.reshape(-1)
        flat_w = top_w.reshape(-1)
        token_of_slot = torch.arange(h.shape[0], device=h.device).repeat_interleave(c.n_expert_used)
        counts = torch.bincount(flat_i, minlength=c.n_expert)
        order = torch.argsort(flat_i, stable=True)                          # slots grouped by expert
        start = 0
        for e, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            slots = order[start:start + n]
            start += n
            tokens = token_of_slot[slots]
            x = h[tokens]
            y = (F.silu(x @ self.gate[e].t()) * (x @ self.up[e].t())) @ self.down[e].t()
            out.index_add_(0, tokens, y * flat_w[slots, None])
        # Switch-Transformer load balancing: E · Σ_e (share of routed slots)·(mean router probability).
        share = counts.float() / flat_i.numel()
        aux = c.n_expert * torch.sum(share * probs.mean(0))
        return out, aux, counts, top_i


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attn_norm = nn.Parameter(torch.ones(c.n_embd))
        self.attn = Attention(c)
        self.ffn_norm = nn.Parameter(torch.ones(c.n_embd))
        self.moe = MoE(c)
        self.eps = c.norm_eps

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(rms_norm(x, self.attn_norm, self.eps), cos, sin, mask)
        B, T, d = x.shape
        y, aux, counts, top_i = self.moe(rms_norm(x, self.ffn_norm, self.eps).reshape(B * T, d))
        return x + y.view(B, T, d), aux, counts, top_i


class Qwen3Moe(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.token_embd = nn.Embedding(c.vocab_size, c.n_embd)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.output_norm = nn.Parameter(torch.ones(c.n_embd))
        # The output matrix is tied to the embedding while training; the GGUF stores it as `output`.
        self.output_override = None  # set when scoring a GGUF whose `output` differs from token_embd
        cos, sin = rope_tables(c.head_dim, c.context, c.rope_base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        std = 0.02
        for name, p in self.named_parameters():
            if p.dim() == 1:
                continue
            if name.endswith(("wo.weight", "down")):   # residual-stream writers: scaled down with depth
                nn.init.normal_(p, 0.0, std / math.sqrt(2 * self.c.n_layer))
            else:
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        """idx [B, T] -> logits [B, T, V], mean aux loss, per-layer expert counts [L, E]."""
        B, T = idx.shape
        mask = torch.full((T, T), float("-inf")).triu(1)
        cos, sin = self.cos[:T], self.sin[:T]
        x = self.token_embd(idx)
        aux_total, counts = 0.0, []
        for block in self.blocks:
            x, aux, cnt, _ = block(x, cos, sin, mask)
            aux_total = aux_total + aux
            counts.append(cnt)
        x = rms_norm(x, self.output_norm, self.c.norm_eps)
        out_w = self.token_embd.weight if self.output_override is None else self.output_override
        logits = x @ out_w.t()
        return logits, aux_total / len(self.blocks), torch.stack(counts)

"""Multi-head attention that can show its work.

Same arguments, shapes and mask meaning as torch's `nn.MultiheadAttention`
(batch first), so torch's module serves as the test oracle. The one mask
convention, everywhere in this project: boolean, True = may not attend.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def causal_mask(T, S=None, device=None):
    """(T, S) bool, True above the diagonal: a query may not look at keys after it."""
    return torch.ones(T, T if S is None else S, dtype=torch.bool, device=device).triu(1)


def merge_masks(shape, key_padding_mask=None, attn_mask=None, is_causal=False, device=None):
    """Combine masks into one boolean mask broadcastable to shape (B, H, T, S); None if no mask.

    key_padding_mask: (B, S). attn_mask: (T, S), (B*H, T, S) or (B, H, T, S).
    All boolean, True = may not attend (torch's convention). device: where the causal mask is built (the input's).
    """
    B, H, T, S = shape
    masks = []
    if key_padding_mask is not None:
        masks.append(_as_bool(key_padding_mask, "key_padding_mask")[:, None, None, :])  # (B, 1, 1, S)
    if attn_mask is not None:
        m = _as_bool(attn_mask, "attn_mask")
        masks.append(m.view(B, H, T, S) if m.dim() == 3 else m)
    if is_causal:
        masks.append(causal_mask(T, S, device))  # (T, S): no peeking ahead
    mask = None
    for m in masks:
        mask = m if mask is None else mask | m
    return mask


def _as_bool(mask, name):
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be boolean (True = may not attend), got {mask.dtype}")
    return mask


def dropout(x, p, training=True, generator=None):
    """Inverted dropout that draws from `generator` (torch's global generator when None).

    F.dropout draws from the process-wide generator only, so two trainings in one process would change
    each other's masks; a training that owns a generator stays reproducible beside others.
    """
    if p == 0.0 or not training:
        return x
    if generator is None:
        return F.dropout(x, p)
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep / (1.0 - p)


class Dropout(nn.Module):
    """nn.Dropout with an optional generator (set by AttentionClassifier.use_generator)."""

    def __init__(self, p):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be at least 0 and below 1, got {p}")
        self.p, self.generator = p, None

    def forward(self, x):
        return dropout(x, self.p, self.training, self.generator)


def masked_softmax(scores, mask=None):
    """Softmax over the last axis; masked (True) keys get weight 0, and a row whose keys are all masked gets zeros.

    Masked scores become the smallest float, not -inf, so a fully masked row does not turn into NaN; its
    softmax would then spread over the blocked keys, which the second fill zeroes.
    """
    if mask is None:
        return scores.softmax(dim=-1)
    return scores.masked_fill(mask, torch.finfo(scores.dtype).min).softmax(dim=-1).masked_fill(mask, 0.0)


def attention(q, k, v, mask=None, dropout_p=0.0, training=False, generator=None):
    """Scaled dot-product attention returning weights. q (B,H,T,dk), k/v (B,H,S,dk), mask True = blocked.

    Returns (out (B,H,T,dk), weights (B,H,T,S)). A row whose keys are all masked
    attends to nothing: its weights and output are zero, never NaN.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (B, H, T, S)
    weights = dropout(masked_softmax(scores, mask), dropout_p, training, generator)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate q/k/v/output projections, batch first.

    d_k = d_model // num_heads; scores are scaled by 1/sqrt(d_k); the heads'
    outputs are concatenated and projected back to d_model.
    """

    def __init__(self, d_model, num_heads, dropout=0.0, bias=True):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.dropout = dropout
        self.generator = None  # draws attention dropout when set (see Dropout)
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def split_heads(self, x):
        """(B, T, D) -> (B, H, T, d_k)."""
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        attn_mask=None,
        is_causal=False,
        need_weights=True,
        head_mask=None,
    ):
        """query (B,T,D), key/value (B,S,D); masks True = may not attend; head_mask (H,) or per example (B, H):
        1 keep, 0 remove.

        Returns (output (B,T,D), weights (B,H,T,S) or None when need_weights=False).
        """
        B, T, D = query.shape
        S = key.size(1)
        q = self.split_heads(self.q_proj(query))  # (B, H, T, d_k)
        k = self.split_heads(self.k_proj(key))  # (B, H, S, d_k)
        v = self.split_heads(self.v_proj(value))  # (B, H, S, d_k)
        mask = merge_masks((B, self.num_heads, T, S), key_padding_mask, attn_mask, is_causal, query.device)
        p = self.dropout if self.training else 0.0
        if need_weights or (p > 0 and self.generator is not None):  # SDPA's dropout draws from the global generator
            out, weights = attention(q, k, v, mask, p, self.training, self.generator)
            weights = weights if need_weights else None
        else:
            out, weights = self._fast(q, k, v, mask, p), None
        if head_mask is not None:
            out = out * head_mask.to(out.dtype).view(-1, self.num_heads, 1, 1)  # zero removed heads' outputs
        out = out.transpose(1, 2).reshape(B, T, D)  # (B, T, H * d_k)
        return self.out_proj(out), weights

    def _fast(self, q, k, v, mask, dropout_p):
        """F.scaled_dot_product_attention; its boolean mask means True = may attend, so invert once."""
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
        allowed = ~mask
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=dropout_p)
        # fully masked rows: SDPA gives NaN; match the explicit path, which gives zero
        blocked_row = ~allowed.any(dim=-1, keepdim=True)  # (B|1, H|1, T, 1)
        return out.masked_fill(blocked_row, 0.0)

    @classmethod
    def from_torch(cls, m: nn.MultiheadAttention):
        """Build a copy of a batch-first nn.MultiheadAttention with identical weights."""
        if not m._qkv_same_embed_dim:
            raise ValueError("only nn.MultiheadAttention with kdim == vdim == embed_dim is supported")
        bias = m.in_proj_bias is not None
        ours = cls(m.embed_dim, m.num_heads, dropout=m.dropout, bias=bias)
        wq, wk, wv = m.in_proj_weight.detach().chunk(3)
        with torch.no_grad():
            for proj, w in zip((ours.q_proj, ours.k_proj, ours.v_proj), (wq, wk, wv)):
                proj.weight.copy_(w)
            ours.out_proj.weight.copy_(m.out_proj.weight)
            if bias:
                for proj, b in zip((ours.q_proj, ours.k_proj, ours.v_proj), m.in_proj_bias.chunk(3)):
                    proj.bias.copy_(b)
                ours.out_proj.bias.copy_(m.out_proj.bias)
        return ours

"""A small attention-based text classifier: embed, attend, pool, classify."""

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from attention.core.mha import Dropout, MultiHeadAttention
from attention.core.tokenizer import PAD_ID

POSITIONAL = ("sinusoidal", "learned", "none")


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int  # tokenizer size, <pad> = 0
    num_classes: int  # output classes
    d_model: int = 64  # embedding width, split across heads
    num_heads: int = 4  # heads per attention layer; d_k = d_model // num_heads
    num_layers: int = 1  # encoder blocks
    d_ff: int = 0  # feed-forward width per block; 0 = no feed-forward
    positional: str = "sinusoidal"  # sinusoidal | learned | none
    max_len: int = 128  # longest input in tokens (learned positions need a bound)
    dropout: float = 0.1
    pad_mask: bool = True  # mask <pad> keys (trained with it on by default)
    causal: bool = False  # causal (look-ahead) mask during training
    norm_eps: float = 1e-5  # LayerNorm's epsilon (torch's default; BERT uses 1e-12)

    def __post_init__(self):
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by {self.num_heads} heads")
        if self.positional not in POSITIONAL:
            raise ValueError(f"positional must be one of {POSITIONAL}, got {self.positional!r}")

    def to_dict(self):
        return asdict(self)


def head_name(layer, head):
    """'L1H3' for layer 0, head 2: heads are counted from 1 where people read them."""
    return f"L{layer + 1}H{head + 1}"


def head_names(cfg: ModelConfig):
    """Every head of the model by name, layer by layer."""
    return [head_name(layer, h) for layer in range(cfg.num_layers) for h in range(cfg.num_heads)]


def sinusoidal_table(max_len, d_model):
    """The (max_len, d_model) sine/cosine table from 'Attention Is All You Need'."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (T, 1)
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: d_model // 2])
    return table


class EncoderBlock(nn.Module):
    """Post-norm block: x = LN(x + MHA(x)); then x = LN(x + FFN(x)) if the block has a feed-forward."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn = MultiHeadAttention(cfg.d_model, cfg.num_heads, dropout=cfg.dropout)
        self.norm1 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.drop = Dropout(cfg.dropout)
        self.ff = None
        if cfg.d_ff:
            self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model))
            self.norm2 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)

    def forward(self, x, key_padding_mask=None, attn_mask=None, is_causal=False, need_weights=True, head_mask=None):
        a, weights = self.attn(x, x, x, key_padding_mask, attn_mask, is_causal, need_weights, head_mask)
        x = self.norm1(x + self.drop(a))
        if self.ff is not None:
            x = self.norm2(x + self.drop(self.ff(x)))
        return x, weights


class AttentionClassifier(nn.Module):
    """Token embedding + positions -> encoder blocks -> mean over real tokens -> linear head."""

    def __init__(self, cfg: ModelConfig, generator: torch.Generator | None = None):
        """generator: draws the initial weights (torch's global generator when None)."""
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=PAD_ID)
        if cfg.positional == "learned":
            self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        elif cfg.positional == "sinusoidal":
            self.register_buffer("pos_table", sinusoidal_table(cfg.max_len, cfg.d_model), persistent=False)
        self.drop = Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(EncoderBlock(cfg) for _ in range(cfg.num_layers))
        self.head = nn.Linear(cfg.d_model, cfg.num_classes)
        if generator is not None:
            self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator):
        """Draw every weight again from `generator`, with torch's default schemes (as nn.Linear, nn.Embedding do)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
                if m.bias is not None:
                    bound = 1 / math.sqrt(m.in_features)
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, generator=generator)
                if m.padding_idx is not None:
                    m.weight[m.padding_idx].zero_()

    def use_generator(self, generator):
        """Make every dropout (embeddings, attention weights, blocks) draw from `generator`; None = global."""
        for m in self.modules():
            if isinstance(m, Dropout | MultiHeadAttention):
                m.generator = generator

    def embed_tokens(self, ids, positional=True):
        """ids (B, T) -> token embeddings plus positions, (B, T, D); N(0, 1) embeddings need no sqrt(D) scale."""
        return self.add_positions(self.embed(ids), positional)

    def add_positions(self, x, positional=True):
        """Token embeddings (B, T, D) -> the first layer's input: plus positions (unless positional is False)."""
        T = x.size(1)
        if T > self.cfg.max_len:
            raise ValueError(f"input has {T} tokens; this model takes at most {self.cfg.max_len}")
        if positional and self.cfg.positional == "learned":
            x = x + self.pos.weight[:T]
        elif positional and self.cfg.positional == "sinusoidal":
            x = x + self.pos_table[:T]
        return x

    def forward(
        self,
        ids,
        key_padding_mask=None,
        attn_mask=None,
        is_causal=False,
        need_weights=True,
        head_mask=None,
        positional=True,
    ):
        """ids (B, T); key_padding_mask (B, T) True = may not attend; head_mask (L, H), per example (B, L, H), or
        (H,) for every layer: 1 keep, 0 remove.

        Pooling always averages the non-<pad> tokens (found from ids), so turning the
        padding mask off changes only what attention may look at.
        Returns (logits (B, C), list of per-layer weights (B, H, T, T), or [] if need_weights=False).
        """
        x = self.drop(self.embed_tokens(ids, positional))
        attentions = []
        for i, block in enumerate(self.blocks):
            hm = None if head_mask is None else (head_mask if head_mask.dim() == 1 else head_mask[..., i, :])
            x, w = block(x, key_padding_mask, attn_mask, is_causal, need_weights, hm)
            if need_weights:
                attentions.append(w)
        return self.head(self.pool(x, ids == PAD_ID)), attentions

    @staticmethod
    def pool(x, is_pad):
        """Mean over tokens that are not <pad>: x (B, T, D), is_pad (B, T) -> (B, D)."""
        keep = (~is_pad).unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        return (x * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

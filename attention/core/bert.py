"""BERT's encoder (the architecture of MiniLM) built from this project's own blocks, so every view of attention
(masks that change the computation, heads switched off, the stage-by-stage arithmetic) works on a real pretrained
model: word + position + token-type embeddings and a LayerNorm, then post-norm blocks of our MultiHeadAttention
and a GELU feed-forward.

Weights come from a BERT checkpoint's safetensors (transformers' names); attention/data/pretrained.py finds the
files. tests/unit/core/test_bert.py checks every layer and head against transformers' BertModel.
"""

import dataclasses
import re

import torch
import torch.nn as nn

from attention.core.model import AttentionClassifier, EncoderBlock, ModelConfig


def bert_config(hf: dict) -> ModelConfig:
    """Our ModelConfig from a BERT config.json (num_classes 0: the encoder alone)."""
    if hf.get("model_type") != "bert" or hf.get("hidden_act") != "gelu":
        raise ValueError(f"not a BERT encoder with GELU: {hf.get('model_type')}, {hf.get('hidden_act')}")
    return ModelConfig(
        vocab_size=hf["vocab_size"],
        num_classes=0,
        d_model=hf["hidden_size"],
        num_heads=hf["num_attention_heads"],
        num_layers=hf["num_hidden_layers"],
        d_ff=hf["intermediate_size"],
        positional="learned",
        max_len=hf["max_position_embeddings"],
        dropout=0.0,  # inference only: the encoder is never trained here
        norm_eps=hf["layer_norm_eps"],
    )


class BertEncoder(nn.Module):
    """ids (B, T) -> every layer's hidden states and attention weights. One token type (a single sentence)."""

    def __init__(self, cfg: ModelConfig, type_vocab_size=2):
        super().__init__()
        self.cfg = cfg
        self.word = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.token_type = nn.Embedding(type_vocab_size, cfg.d_model)
        self.norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.blocks = nn.ModuleList(EncoderBlock(cfg) for _ in range(cfg.num_layers))

    def embed(self, ids):
        """(B, T) -> (B, T, D): word embedding plus the token-type embedding of sentence A."""
        return self.word(ids) + self.token_type.weight[0]

    def embed_tokens(self, ids, positional=True):
        """The first layer's input: LayerNorm(embedding + position), or without the position."""
        return self.add_positions(self.embed(ids), positional)

    def add_positions(self, x, positional=True):
        """Embeddings (B, T, D) -> the first layer's input: LayerNorm(x + position), or LayerNorm(x)."""
        return self.norm(x + self.pos.weight[: x.size(1)] if positional else x)

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
        """Masks as everywhere here (True = may not attend); head_mask (L, H) or per example (B, L, H), 1 keep,
        0 remove; positional=False leaves the position embeddings out.

        Returns (hidden states: the embeddings then each layer's output, L + 1 of (B, T, D);
        attention weights: L of (B, H, T, T), or [] if need_weights=False).
        """
        T = ids.size(1)
        if T > self.cfg.max_len:
            raise ValueError(f"input has {T} tokens; this model takes at most {self.cfg.max_len}")
        x = self.embed_tokens(ids, positional)
        hidden, attentions = [x], []
        for i, block in enumerate(self.blocks):
            hm = None if head_mask is None else head_mask[..., i, :]  # (H,) or per example (B, H)
            x, w = block(x, key_padding_mask, attn_mask, is_causal, need_weights, hm)
            hidden.append(x)
            if need_weights:
                attentions.append(w)
        return hidden, attentions


class BertClassifier(nn.Module):
    """The encoder, frozen, then the mean over the real pieces (as sentence-transformers pools MiniLM) and a
    linear head. Same forward as AttentionClassifier, so every analysis and page takes either."""

    def __init__(self, encoder: BertEncoder, num_classes: int, pad_id: int = 0):
        super().__init__()
        self.encoder, self.pad_id = encoder.requires_grad_(False), pad_id
        self.cfg = dataclasses.replace(encoder.cfg, num_classes=num_classes)
        self.head = nn.Linear(self.cfg.d_model, num_classes)

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
        """ids (B, T) WordPiece ids; returns (logits (B, C), per-layer weights (B, H, T, T) or [])."""
        hidden, attentions = self.encoder(
            ids, key_padding_mask, attn_mask, is_causal, need_weights, head_mask, positional
        )
        return self.head(AttentionClassifier.pool(hidden[-1], ids == self.pad_id)), attentions

    # AttentionClassifier's parts that Inside a head takes one at a time: the same names for either model
    blocks = property(lambda self: self.encoder.blocks)
    pos = property(lambda self: self.encoder.pos)
    embed = property(lambda self: self.encoder.embed)
    embed_tokens = property(lambda self: self.encoder.embed_tokens)
    add_positions = property(lambda self: self.encoder.add_positions)
    drop = staticmethod(lambda x: x)  # no dropout: the encoder is never trained here
    pool = staticmethod(AttentionClassifier.pool)


# transformers' BERT parameter names -> ours (the pooler, unused, is left out)
RENAMES = [
    (r"^embeddings\.word_embeddings\.", "word."),
    (r"^embeddings\.position_embeddings\.", "pos."),
    (r"^embeddings\.token_type_embeddings\.", "token_type."),
    (r"^embeddings\.LayerNorm\.", "norm."),
    (r"^encoder\.layer\.(\d+)\.attention\.self\.query\.", r"blocks.\1.attn.q_proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.self\.key\.", r"blocks.\1.attn.k_proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.self\.value\.", r"blocks.\1.attn.v_proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"blocks.\1.attn.out_proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.", r"blocks.\1.norm1."),
    (r"^encoder\.layer\.(\d+)\.intermediate\.dense\.", r"blocks.\1.ff.0."),
    (r"^encoder\.layer\.(\d+)\.output\.dense\.", r"blocks.\1.ff.2."),
    (r"^encoder\.layer\.(\d+)\.output\.LayerNorm\.", r"blocks.\1.norm2."),
]


def ours(name):
    """Our name for a transformers BERT parameter, or None for one we do not use."""
    for pattern, repl in RENAMES:
        if re.match(pattern, name):
            return re.sub(pattern, repl, name)
    return None


def load_bert(hf_config: dict, tensors: dict[str, torch.Tensor]) -> BertEncoder:
    """A BertEncoder in eval mode with these weights; every one of ours must be among them (strict)."""
    model = BertEncoder(bert_config(hf_config), hf_config.get("type_vocab_size", 2))
    state = {name: v for k, v in tensors.items() if (name := ours(k)) is not None}
    model.load_state_dict(state, strict=True)
    return model.eval()

"""Patching between two sentences: run the corrupted sentence with one piece taken from the clean run, and see how
much of the clean prediction comes back.

A piece is one head's output in one layer (its d_k columns of the concatenated heads, before the output
projection), or the residual stream at one token position going into one layer. Measured on the log-odds of the
clean sentence's predicted class: 1 = restored to the clean run's, 0 = the corrupted run's; values beyond either
are possible.
"""

from dataclasses import dataclass

import numpy as np
import torch

from attention.analysis import parts
from attention.analysis.sentence import Masks, encode, resolve
from attention.core.mha import attention, merge_masks


@dataclass(frozen=True)
class Patching:
    """For the clean sentence's predicted class: its probability in each run, and the share of the gap in its
    log-odds each patch restores: heads (L, H); residual (L, T), the input of layer l at position t."""

    cls: int
    p_clean: float
    p_corrupt: float
    heads: np.ndarray
    residual: np.ndarray
    clean_tokens: list
    corrupt_tokens: list


class Run:
    """One sentence through the model, keeping each layer's input (1, T, D) and its concatenated heads (1, T, D).

    No hooks on the model (it is shared by every visitor's session): a layer runs from its parts, as its
    EncoderBlock does (tests/unit/analysis/test_patching.py checks it against the model's own forward pass).
    """

    def __init__(self, model, tokenizer, text, masks):
        self.model, self.masks = model, masks
        self.enc, _, self.ids, self.kpm, self.attn, self.head_mask = encode(model, tokenizer, text, masks)
        self.is_pad = self.ids == tokenizer.pad_id
        self.inputs, self.heads = [parts.embed(model, self.ids, masks)], []
        for i in range(model.cfg.num_layers):  # the model's own layers; the heads recomputed to patch from
            self.heads.append(self.concat_heads(self.inputs[-1], i))
            self.inputs.append(
                parts.layers(model, self.inputs[-1], masks, self.kpm, self.attn, self.head_mask, i, i + 1)[0]
            )
        self.logits = parts.readout(model, self.inputs[-1], self.is_pad)

    def concat_heads(self, x, layer):
        """(B, T, D): layer's heads' outputs side by side, before the output projection (switched-off heads 0)."""
        mha, (B, T, D) = self.model.blocks[layer].attn, x.shape
        q, k, v = (mha.split_heads(proj(x)) for proj in (mha.q_proj, mha.k_proj, mha.v_proj))
        pad = None if self.kpm is None else self.kpm.expand(B, -1)
        mask = merge_masks((B, mha.num_heads, T, T), pad, self.attn, self.masks.causal, x.device)
        out = attention(q, k, v, mask)[0] * self.head_mask[layer].view(1, -1, 1, 1)
        return out.transpose(1, 2).reshape(B, T, D)

    def finish_layer(self, x, layer, heads):
        """The rest of layer's block from its input and concatenated heads: projection, add & norm, feed-forward."""
        block = self.model.blocks[layer]
        x = block.norm1(x + block.drop(block.attn.out_proj(heads)))
        return x if block.ff is None else block.norm2(x + block.drop(block.ff(x)))

    def patched(self, x, start, columns=None, clean=None):
        """Logits (B, C) of layers start.. on x (B, T, D), with `columns` (B, D) of layer start's concatenated
        heads taken from `clean` (a Run), if given."""
        if columns is not None:
            heads = torch.where(columns[:, None, :], clean.heads[start], self.concat_heads(x, start))
            x, start = self.finish_layer(x, start, heads), start + 1
        x = parts.layers(self.model, x, self.masks, self.kpm, self.attn, self.head_mask, start)[0]
        return parts.readout(self.model, x, self.is_pad)


def head_columns(heads, num_heads, d_model):
    """(B, D) bool: example b takes head heads[b]'s d_k columns."""
    d_k = d_model // num_heads
    cols = torch.zeros(len(heads), d_model, dtype=torch.bool)
    for b, h in enumerate(heads):
        cols[b, h * d_k : (h + 1) * d_k] = True
    return cols


@torch.inference_mode()
def patch(model, tokenizer, clean: str, corrupt: str, masks: Masks | None = None) -> Patching:
    """Every head and every residual position patched in turn from clean into corrupt (batched within a layer).
    ValueError when the sentences have different numbers of tokens, or no tokens."""
    cfg = model.cfg
    masks = resolve(masks or Masks(), cfg)
    good, bad = Run(model, tokenizer, clean, masks), Run(model, tokenizer, corrupt, masks)
    T = good.ids.size(1)
    if bad.ids.size(1) != T:
        raise ValueError(
            f"The clean sentence has {T} tokens and the corrupted one {bad.ids.size(1)}: patching swaps pieces "
            "position by position, so they need the same number (change a word for a word the model reads as one)."
        )
    cls = int(good.logits[0].argmax())
    odds = lambda logits: log_odds(logits.double(), cls)
    clean_odds, bad_odds = odds(good.logits)[0], odds(bad.logits)[0]
    gap = clean_odds - bad_odds
    restored = lambda logits: ((odds(logits) - bad_odds) / gap).numpy() if gap else np.zeros(len(logits))
    heads, residual = np.zeros((cfg.num_layers, cfg.num_heads)), np.zeros((cfg.num_layers, T))
    chunk = parts.examples_per_chunk(cfg, T)
    for layer in range(cfg.num_layers):
        for hs in torch.arange(cfg.num_heads).split(chunk):
            cols = head_columns(hs.tolist(), cfg.num_heads, cfg.d_model)
            x = bad.inputs[layer].expand(len(hs), -1, -1)
            heads[layer, hs] = restored(bad.patched(x, layer, cols, good))
        for ts in torch.arange(T).split(chunk):
            x = bad.inputs[layer].repeat(len(ts), 1, 1)
            x[torch.arange(len(ts)), ts] = good.inputs[layer][0, ts]  # example b: position ts[b] from the clean run
            residual[layer, ts] = restored(bad.patched(x, layer))
    tokens = lambda r: r.enc.tokens + [tokenizer.pad_token] * (T - len(r.enc.tokens))
    p_clean, p_bad = (float(r.logits[0].softmax(-1)[cls]) for r in (good, bad))
    return Patching(cls, p_clean, p_bad, heads, residual, tokens(good), tokens(bad))


def log_odds(logits, cls):
    """(B,): log(p / (1 - p)) of class cls, = its logit minus the log-sum-exp of the others (with two classes,
    the logit difference). Near 0 or 1 a probability barely moves while the log-odds still do."""
    others = torch.cat([logits[:, :cls], logits[:, cls + 1 :]], 1)
    return logits[:, cls] - others.logsumexp(1)

"""Which heads made this prediction: how much the predicted class loses when one head alone is switched off.

Attention weights show where a head looks, not whether what it found mattered. Here every head that is on is
switched off in turn, on top of the person's own masks, and the predicted class's probability and logit are
read again: all of them in batched forward passes (one example per head, each with its own head mask).
"""

from dataclasses import dataclass

import numpy as np
import torch

from attention.analysis import parts
from attention.analysis.sentence import Masks, encode, resolve


@dataclass(frozen=True)
class Contribution:
    """For the class predicted with the person's masks: its probability and logit, and per head (L, H) how much
    each drops when that head is also switched off (positive: the head supported this prediction). A head the
    person already switched off contributes 0: switching it off again changes nothing."""

    cls: int
    prob: float
    logit: float
    d_prob: np.ndarray  # (L, H)
    d_logit: np.ndarray  # (L, H)

    def ranked(self, top=None):
        """[(layer, head, d_prob, d_logit)] by |d_prob|, largest first (0-based layer and head)."""
        L, H = self.d_prob.shape
        order = np.argsort(-np.abs(self.d_prob), axis=None, kind="stable")[:top]
        return [(int(i // H), int(i % H), float(self.d_prob.flat[i]), float(self.d_logit.flat[i])) for i in order]


@torch.inference_mode()
def head_contributions(model, tokenizer, text: str, masks: Masks | None = None) -> Contribution:
    """Every head's contribution to this sentence's prediction (see Contribution); ValueError for no tokens.

    A head of layer l changes nothing below l: the sentence runs once, keeping each layer's input, and the
    variants of layer l start from its input, one example per head still on in that layer.
    """
    cfg = model.cfg
    masks = resolve(masks or Masks(), cfg)
    _, _, ids, kpm, attn, head_mask = encode(model, tokenizer, text, masks)
    L, T, is_pad = cfg.num_layers, ids.size(1), ids == tokenizer.pad_id
    inputs = [parts.embed(model, ids, masks)]  # (1, T, D) into each layer, then out of the last
    for i in range(L):
        inputs.append(parts.layers(model, inputs[-1], masks, kpm, attn, head_mask, start=i, stop=i + 1)[0])
    base = parts.readout(model, inputs[-1], is_pad)[0].double()
    c = int(base.argmax())
    p = base.softmax(-1)[c]
    d_prob, d_logit = (torch.zeros(head_mask.shape, dtype=torch.float64) for _ in range(2))
    chunk = parts.examples_per_chunk(cfg, T)
    for layer in range(L):
        for on in head_mask[layer].nonzero().flatten().split(chunk):  # heads of this layer still on
            hm = head_mask.repeat(len(on), 1, 1)  # (B, L, H): the person's masks, and one more head off each
            hm[torch.arange(len(on)), layer, on] = 0
            x, _ = parts.layers(model, inputs[layer].expand(len(on), -1, -1), masks, kpm, attn, hm, start=layer)
            logits = parts.readout(model, x, is_pad).double()
            d_prob[layer, on] = p - logits.softmax(-1)[:, c]
            d_logit[layer, on] = base[c] - logits[:, c]
    return Contribution(c, float(p), float(base[c]), d_prob.numpy(), d_logit.numpy())

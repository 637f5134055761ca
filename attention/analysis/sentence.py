"""One sentence through a model, with the masks a person chooses: prediction, tokens and every head's weights."""

import csv
import io
import json
from dataclasses import dataclass, field

import numpy as np
import torch

from attention.core.tokenizer import PAD

MAX_CHARS = 2000  # longer input is cut before tokenizing (and the user is told)


@dataclass(frozen=True)
class Masks:
    """What the person switched on. pad_mask/causal None = as the model was trained."""

    pad_to: int = 0  # pad the sentence with <pad> up to this many tokens (0 = no padding)
    pad_mask: bool | None = None  # mask <pad> keys
    causal: bool | None = None  # causal (look-ahead) mask
    hidden: tuple[int, ...] = ()  # token positions no query may attend to
    removed_heads: tuple[tuple[int, int], ...] = ()  # (layer, head) pairs switched off
    positional: bool = True  # add positional encoding


@dataclass
class Analysis:
    tokens: list[str]  # what the model saw, <pad> included
    unknown: list[bool]
    truncated: int  # words dropped by the model's max length
    cut_chars: int  # characters dropped before tokenizing
    probs: np.ndarray  # (C,)
    weights: list[np.ndarray]  # per layer, (H, T, T) float32
    masks: Masks = field(default_factory=Masks)
    words: list | None = None  # word pieces only: per token, the index of the word it came from (None: [CLS]...)
    n_pad: int = 0  # padding tokens at the end

    @property
    def pred(self):
        return int(self.probs.argmax())


def resolve(masks: Masks, cfg) -> Masks:
    """Fill 'as trained' choices from the model's config."""
    pad = cfg.pad_mask if masks.pad_mask is None else masks.pad_mask
    causal = cfg.causal if masks.causal is None else masks.causal
    return Masks(masks.pad_to, pad, causal, masks.hidden, masks.removed_heads, masks.positional)


def encode(model, tokenizer, text: str, masks: Masks):
    """Tokens and model inputs for one sentence with resolved masks. Raises ValueError for no tokens.

    Returns (enc, cut_chars, ids (1, T), key_padding_mask (1, T) or None, attn_mask (T, T) or None, head_mask (L, H)).
    """
    cfg = model.cfg
    enc = tokenizer.encode(text[:MAX_CHARS], cfg.max_len)
    if not enc.ids:
        raise ValueError("The sentence has no words the model can read: type a few words.")
    T = max(len(enc.ids), min(masks.pad_to, cfg.max_len))
    ids = torch.tensor([enc.ids + [tokenizer.pad_id] * (T - len(enc.ids))])  # (1, T)
    kpm = (ids == tokenizer.pad_id) if masks.pad_mask else None  # (1, T), True = may not attend
    hidden = [i for i in masks.hidden if i < T]
    attn = None
    if hidden:
        attn = torch.zeros(T, T, dtype=torch.bool)
        attn[:, hidden] = True  # (T, S): no query may attend to these keys
    head_mask = torch.ones(cfg.num_layers, cfg.num_heads)
    for layer, head in masks.removed_heads:
        if layer < cfg.num_layers and head < cfg.num_heads:
            head_mask[layer, head] = 0
    return enc, max(len(text) - MAX_CHARS, 0), ids, kpm, attn, head_mask


def padded_labels(enc, T, pad_token=PAD):
    """(tokens, unknown flags) of an encoding with padding added up to T tokens, as the model sees them."""
    n_pad = T - len(enc.ids)
    return enc.tokens + [pad_token] * n_pad, enc.unknown + [False] * n_pad


@torch.inference_mode()
def analyze(model, tokenizer, text: str, masks: Masks = Masks()) -> Analysis:
    """Tokenize, pad, mask and run one sentence; raises ValueError for a sentence with no tokens."""
    cfg = model.cfg
    masks = resolve(masks, cfg)
    enc, cut, ids, kpm, attn, head_mask = encode(model, tokenizer, text, masks)
    logits, weights = model(ids, kpm, attn, masks.causal, True, head_mask, masks.positional)
    tokens, unknown = padded_labels(enc, ids.size(1), tokenizer.pad_token)
    n_pad = ids.size(1) - len(enc.ids)
    return Analysis(
        tokens=tokens,
        unknown=unknown,
        truncated=enc.truncated,
        cut_chars=cut,
        probs=logits.softmax(-1)[0].numpy(),
        weights=[w[0].numpy().astype(np.float32) for w in weights],
        masks=masks,
        words=enc.words + [None] * n_pad if hasattr(enc, "words") else None,
        n_pad=n_pad,
    )


def export_json(a: Analysis, classes, model_name: str, text: str) -> str:
    """The weights with their tokens, for download."""
    return json.dumps(
        dict(
            model=model_name,
            text=text,
            tokens=a.tokens,
            prediction=classes[a.pred],
            probabilities=dict(zip(classes, map(float, a.probs))),
            masks=a.masks.__dict__,
            layers=[dict(layer=i, heads=w.round(5).tolist()) for i, w in enumerate(a.weights)],
        ),
        indent=1,
    )


def export_csv(a: Analysis) -> str:
    """Long format: one row per (layer, head, query, key)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["layer", "head", "query_pos", "query", "key_pos", "key", "weight"])
    for layer, w in enumerate(a.weights):
        H, T, _ = w.shape
        for h in range(H):
            for q in range(T):
                for k in range(T):
                    out.writerow([layer + 1, h + 1, q, a.tokens[q], k, a.tokens[k], f"{w[h, q, k]:.5f}"])
    return buf.getvalue()


def panels(weights, base=None, focus="all", off=()):
    """What to draw for one layer: (stack (P, T, T), titles, diverging).

    weights: (H, T, T). With base (the run without the user's masks) the panels
    are differences. focus: "all" (every head, then the average), "avg", or "h3".
    off: indices of this layer's heads that are switched off: they still compute weights,
    but their output is zeroed, so their titles say so.
    """
    w = weights if base is None else weights - base
    H = len(w)
    stack = np.concatenate([w, w.mean(0, keepdims=True)]) if H > 1 else w  # (H + 1, T, T): heads, then average
    titles = [f"head {h + 1}" + " (off: output unused)" * (h in off) for h in range(H)]
    titles += ["average of heads"] * (H > 1)
    if focus == "avg":
        return stack[-1:], titles[-1:], base is not None
    if focus.startswith("h") and focus[1:].isdigit() and 1 <= int(focus[1:]) <= H:
        h = int(focus[1:]) - 1
        return stack[h : h + 1], titles[h : h + 1], base is not None
    return stack, titles, base is not None

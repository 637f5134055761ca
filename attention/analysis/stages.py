"""Inside one head: every stage of one layer's attention, recomputed from the module's own parameters.

Notation (as on the page): Q = X·W_q + b_q, where W_q is `q_proj.weight.T` (nn.Linear computes
x @ weight.T + bias), and a head's W_q is the d_k columns of W_q that belong to it. Masks are
boolean, True = may not attend (torch's convention); masked scores are filled with finfo.min
inside, exactly as `attention.mha.attention` does, and shown as blank cells, never as numbers.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from attention.analysis.sentence import Masks, encode, padded_labels, resolve
from attention.core.bert import BertClassifier
from attention.core.mha import causal_mask, masked_softmax


@dataclass
class MaskStep:
    name: str  # "padding", "causal", "hidden tokens"
    blocks: np.ndarray  # (T, T) bool: the cells this mask blocks
    total: np.ndarray  # (T, T) bool: every mask so far, this one included


@dataclass
class HeadSteps:
    """One sentence through one layer, one head in detail and every head's output. Arrays are float32 numpy."""

    tokens: list[str]
    ids: list[int]  # vocabulary ids, <pad> = 0, <unk> = 1
    unknown: list[bool]
    truncated: int  # words dropped by the model's max length
    cut_chars: int  # characters dropped before tokenizing
    layer: int  # 0-based
    head: int  # 0-based
    positional: str  # what the model adds: sinusoidal | learned | none
    embedding: np.ndarray | None  # (T, D) token embeddings (layer 0 only)
    position: np.ndarray | None  # (T, D) positions added to them (layer 0 only; None if none are added)
    x: np.ndarray  # (T, D) the layer's input
    w_q: np.ndarray  # (D, d_k) this head's columns of q_proj.weight.T; likewise w_k, w_v
    w_k: np.ndarray
    w_v: np.ndarray
    b_q: np.ndarray  # (d_k,) this head's part of q_proj.bias; likewise b_k, b_v
    b_k: np.ndarray
    b_v: np.ndarray
    q: np.ndarray  # (T, d_k) X·W_q + b_q
    k: np.ndarray  # (T, d_k)
    v: np.ndarray  # (T, d_k)
    scores: np.ndarray  # (T, T) Q·Kᵀ
    scaled: np.ndarray  # (T, T) Q·Kᵀ / √d_k
    mask_steps: list[MaskStep]  # in the order padding, causal, hidden tokens (only those switched on)
    mask: np.ndarray  # (T, T) bool, every mask together (all False without masks)
    weights: np.ndarray  # (T, T) softmax of the masked scaled scores; masked cells 0
    head_out: np.ndarray  # (T, d_k) weights·V (zero if the head is switched off)
    heads_out: np.ndarray  # (H, T, d_k) every head's output, switched-off heads zero
    concat: np.ndarray  # (T, D) the heads side by side
    w_o: np.ndarray  # (D, D) out_proj.weight.T
    b_o: np.ndarray  # (D,)
    share: np.ndarray  # (T, D) this head's part of the output: head_out · (its d_k rows of W_o)
    output: np.ndarray  # (T, D) concat·W_o + b_o, the attention layer's output
    block_out: np.ndarray  # (T, D) the block's output: LayerNorm(X + output) (then feed-forward, if any)
    probs: np.ndarray  # (C,) the model's prediction for the sentence
    has_ff: bool = False  # the block has a feed-forward after attention
    embed_norm: bool = False  # layer 0's X is LayerNorm(embedding + position), as in BERT, not their plain sum
    removed: bool = False  # this head is switched off

    @property
    def d_k(self):
        return self.q.shape[1]

    @property
    def num_heads(self):
        return self.heads_out.shape[0]

    @property
    def row_sums(self):
        """(T, 1) each query's weights added up: 1, or 0 for a query whose keys are all masked."""
        return self.weights.sum(axis=1, keepdims=True)


def mask_steps(T, kpm, attn, causal):
    """The masks one at a time, each as a (T, T) bool array (True = may not attend), with the running total."""
    named = []
    if kpm is not None and kpm.any():
        named.append(("padding", kpm[0][None, :].expand(T, T)))  # (T, T): <pad> keys, for every query
    if causal:
        named.append(("causal", causal_mask(T)))  # keys after the query
    if attn is not None:
        named.append(("hidden tokens", attn))
    total = torch.zeros(T, T, dtype=torch.bool)
    steps = []
    for name, m in named:
        total = total | m
        steps.append(MaskStep(name, m.numpy().copy(), total.numpy().copy()))
    return steps, total


def _head_rows(h, d_k):
    return slice(h * d_k, (h + 1) * d_k)


@torch.inference_mode()
def trace(model, tokenizer, text: str, masks: Masks, layer: int = 0, head: int = 0) -> HeadSteps:
    """Run `text` through `model` and recompute layer `layer` (0-based) stage by stage; `head` is shown in detail.

    Same masks as the Explore page (`Masks`, True = may not attend). Earlier layers run as usual
    (their output is this layer's input); later layers run as usual to give the prediction.
    """
    # Long on purpose: one head's stages in the order the page shows them, each a line or two.
    cfg = model.cfg
    masks = resolve(masks, cfg)
    if not (0 <= layer < cfg.num_layers and 0 <= head < cfg.num_heads):
        raise ValueError(f"layer {layer + 1} head {head + 1} is not in this model")
    enc, cut, ids, kpm, attn, head_mask = encode(model, tokenizer, text, masks)
    T = ids.size(1)
    run = lambda i, x: model.blocks[i](x, kpm, attn, masks.causal, True, head_mask[i])[0]
    x = model.drop(model.embed_tokens(ids, masks.positional))  # (1, T, D); dropout is off in eval mode
    for i in range(layer):
        x = run(i, x)
    steps, mask = mask_steps(T, kpm, attn, masks.causal)
    block = model.blocks[layer]
    parts = _attend(block.attn, x[0], mask, head_mask[layer])
    y = block.norm1(x + block.drop(torch.from_numpy(parts["output"])[None]))  # (1, T, D): add & norm
    if block.ff is not None:
        y = block.norm2(y + block.drop(block.ff(y)))
    out = y
    for i in range(layer + 1, cfg.num_layers):
        out = run(i, out)
    logits = model.head(model.pool(out, ids == tokenizer.pad_id))  # (1, C)
    table = positions_table(model)
    tokens, unknown = padded_labels(enc, T, tokenizer.pad_token)
    per_head = ("q", "k", "v", "scores", "scaled", "weights", "w_q", "w_k", "w_v", "b_q", "b_k", "b_v")
    return HeadSteps(
        tokens=tokens,
        ids=ids[0].tolist(),
        unknown=unknown,
        truncated=enc.truncated,
        cut_chars=cut,
        layer=layer,
        head=head,
        positional=cfg.positional,
        embedding=model.embed(ids)[0].numpy() if layer == 0 else None,
        position=table[:T] if layer == 0 and masks.positional and table is not None else None,
        x=x[0].numpy(),
        **{name: parts[name][head] for name in per_head},
        mask_steps=steps,
        mask=mask.numpy(),
        head_out=parts["heads_out"][head],
        heads_out=parts["heads_out"],
        concat=parts["concat"],
        w_o=parts["w_o"],
        b_o=parts["b_o"],
        share=parts["heads_out"][head] @ parts["w_o"][_head_rows(head, block.attn.d_k)],
        output=parts["output"],
        block_out=y[0].numpy(),
        probs=logits.softmax(-1)[0].numpy(),
        has_ff=block.ff is not None,
        embed_norm=isinstance(model, BertClassifier),
        removed=bool(head_mask[layer, head] == 0),
    )


def _attend(mha, x, mask, head_keep):
    """Every head of `mha` on x (T, D), written out step by step. mask (T, T) True = blocked; head_keep (H,) 1/0.

    Returns a dict of float32 numpy arrays, per head where it says (H, ...).
    """
    T, D = x.shape
    H, d_k = mha.num_heads, mha.d_k

    def per_head(w):  # (D, D) in X·W form -> (H, D, d_k): each head's columns
        return w.view(D, H, d_k).permute(1, 0, 2)

    def project(lin):  # X·W + b with W = weight.T, one (T, d_k) block per head
        # F.linear computes x @ weight.T + bias exactly as the module does, so the numbers agree to the last bit
        return F.linear(x, lin.weight, lin.bias).view(T, H, d_k).transpose(0, 1)  # (H, T, d_k)

    w_q, w_k, w_v = (per_head(p.weight.T) for p in (mha.q_proj, mha.k_proj, mha.v_proj))  # (H, D, d_k)
    b_q, b_k, b_v = (_bias(p).view(H, d_k) for p in (mha.q_proj, mha.k_proj, mha.v_proj))  # (H, d_k)
    q, k, v = project(mha.q_proj), project(mha.k_proj), project(mha.v_proj)  # (H, T, d_k) each
    scores = q @ k.transpose(-2, -1)  # (H, T, T)
    scaled = scores / math.sqrt(d_k)
    weights = masked_softmax(scaled, mask)  # as the model: a row with every key masked gets zeros, not NaN
    heads_out = (weights @ v) * head_keep.view(H, 1, 1)  # (H, T, d_k); a switched-off head outputs zeros
    concat = heads_out.transpose(0, 1).reshape(T, D)  # (T, H * d_k)
    w_o = mha.out_proj.weight.T  # (D, D): output = concat·W_o + b_o
    output = F.linear(concat, mha.out_proj.weight, mha.out_proj.bias)  # (T, D)
    out = dict(q=q, k=k, v=v, scores=scores, scaled=scaled, weights=weights, heads_out=heads_out, concat=concat)
    out.update(w_q=w_q, w_k=w_k, w_v=w_v, b_q=b_q, b_k=b_k, b_v=b_v, w_o=w_o, b_o=_bias(mha.out_proj), output=output)
    return {name: t.detach().numpy().astype(np.float32) for name, t in out.items()}


def _bias(linear):
    """A Linear's bias, or zeros if it has none."""
    return linear.bias if linear.bias is not None else torch.zeros(linear.out_features)


@dataclass
class WorkedRow:
    """One query's softmax written out: w_j = exp(s_j - max) / Σ exp(s - max) over the keys it may attend to."""

    query: int
    scores: np.ndarray  # (T,) float64, the scaled scores Q·Kᵀ/√d_k of this row
    masked: np.ndarray  # (T,) bool
    top: float  # the largest unmasked score (subtracted before exp; the weights do not change)
    exps: np.ndarray  # (T,) exp(score - top); 0 where masked
    total: float  # Σ exps
    weights: np.ndarray  # (T,) exps / total; all 0 when every key is masked


def worked_row(steps: HeadSteps, query: int) -> WorkedRow:
    """The softmax of one row of the head's scaled, masked scores, in float64 (matches `steps.weights` to ~1e-7)."""
    s = steps.scaled[query].astype(np.float64)
    masked = steps.mask[query].copy()
    if masked.all():
        zeros = np.zeros_like(s)
        return WorkedRow(query, s, masked, float("nan"), zeros, 0.0, zeros)
    top = float(s[~masked].max())
    exps = np.where(masked, 0.0, np.exp(np.where(masked, top, s) - top))
    total = float(exps.sum())
    return WorkedRow(query, s, masked, top, exps, total, exps / total)


def positions_table(model):
    """The positional encoding the model adds, (max_len, D) float32, or None if it adds none."""
    cfg = model.cfg
    if cfg.positional == "sinusoidal":
        return model.pos_table.numpy().astype(np.float32)
    if cfg.positional == "learned":
        return model.pos.weight.detach().numpy().astype(np.float32)
    return None


def token_labels(model, tokenizer, text: str, pad_to: int = 0):
    """(tokens, unknown) the model will see for `text` padded to `pad_to`; ValueError if it has no tokens."""
    enc, _, ids, *_ = encode(model, tokenizer, text, Masks(pad_to=pad_to))
    return padded_labels(enc, ids.size(1), tokenizer.pad_token)

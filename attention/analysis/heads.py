"""What each head does: ablation, pruning, diagnostics, roles. Arrays in, numbers out."""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from attention.core.model import head_name, head_names
from attention.data.batching import Encoded, batches_by_length
from attention.data.synthetic import query_key_pairs

TOP = 5  # a head's texts shown where it matters most


@dataclass
class Scores:
    """Loss, accuracy and predictions of one model variant on one split."""

    loss: float
    accuracy: float
    preds: np.ndarray  # (N,)
    probs: np.ndarray | None = None  # (N, C) each text's class probabilities


@torch.inference_mode()
def layer_inputs(model, data: Encoded, batch_size=256):
    """Each batch's input to every layer, every head on, and the last layer's output: [(idx, labels, [x_0 .. x_L])].
    Removing a head of layer l then reruns layers l and up only (5/12 of MiniLM's work on average)."""
    cfg, out = model.cfg, []
    for idx, ids, kpm, y in batches_by_length(data, batch_size):  # one length per batch: no <pad> anywhere
        xs = [model.drop(model.embed_tokens(ids))]
        for block in model.blocks:
            xs.append(block(xs[-1], kpm if cfg.pad_mask else None, None, cfg.causal, False)[0])
        out.append((idx, y, xs))
    return out


@torch.inference_mode()
def score(model, data: Encoded, head_mask=None, prefix=None) -> Scores:
    """Evaluate with some heads removed. head_mask (L, H): 1 keep, 0 remove. prefix: layer_inputs(model, data),
    computed once for many masks. Unpadded: batch size changes nothing."""
    cfg = model.cfg
    prefix = prefix or layer_inputs(model, data)
    keep = torch.ones(cfg.num_layers, cfg.num_heads) if head_mask is None else head_mask
    start = next((i for i in range(cfg.num_layers) if (keep[i] == 0).any()), cfg.num_layers)
    total, preds = 0.0, torch.empty(len(data), dtype=torch.long)
    probs = torch.zeros(len(data), cfg.num_classes, dtype=torch.float64)
    for idx, y, xs in prefix:
        x = xs[start]
        for i in range(start, cfg.num_layers):
            x = model.blocks[i](x, None, None, cfg.causal, False, keep[i])[0]  # no <pad>: nothing to mask
        logits = model.head(x.mean(1))  # the models' pooling: the mean over tokens, none of them <pad>
        total += F.cross_entropy(logits, y, reduction="sum").item()
        preds[idx] = logits.argmax(-1)
        probs[idx] = logits.double().softmax(-1)
    p = preds.numpy()
    return Scores(total / len(data), float((p == data.labels.numpy()).mean()), p, probs.numpy())


def ablation(model, data: Encoded, prefix=None):
    """Remove each head alone. Returns (full Scores, rows sorted by importance: most harmful removal first).

    Each row: layer, head (0-based), d_acc and d_loss (removed minus full), flipped (indices whose prediction
    changed), contribution (the mean over texts of the probability the full model's prediction loses with the head
    removed) and top (the TOP texts where it loses the most, largest first).
    """
    L, H = model.cfg.num_layers, model.cfg.num_heads
    prefix = prefix or layer_inputs(model, data)
    full = score(model, data, prefix=prefix)
    texts, own = np.arange(len(data)), full.preds  # each text's class as the full model predicts it
    rows = []
    for layer in range(L):
        for head in range(H):
            mask = torch.ones(L, H)
            mask[layer, head] = 0
            s = score(model, data, mask, prefix)
            flipped = np.flatnonzero(s.preds != full.preds)
            lost = full.probs[texts, own] - s.probs[texts, own]
            rows.append(
                dict(
                    name=head_name(layer, head),
                    layer=layer,
                    head=head,
                    d_acc=s.accuracy - full.accuracy,
                    d_loss=s.loss - full.loss,
                    flipped=flipped,
                    contribution=float(lost.mean()),
                    top=np.argsort(-lost, kind="stable")[:TOP],
                )
            )
    rows.sort(key=lambda r: (-r["d_loss"], r["d_acc"]))
    return full, rows


def pruning_curve(model, data: Encoded, rows, prefix=None, points=12):
    """Remove heads from least to most important (by ablation rows); accuracy after each removal, or after each
    group of removals when there are more than `points` heads (72 heads: 6 at a time).

    Returns [(heads kept, accuracy)], starting with all heads kept and ending with none.
    """
    L, H = model.cfg.num_layers, model.cfg.num_heads
    prefix = prefix or layer_inputs(model, data)
    mask, step = torch.ones(L, H), -(-len(rows) // points)
    curve = [(L * H, score(model, data, prefix=prefix).accuracy)]
    order = rows[::-1]  # least important first
    for start in range(0, len(order), step):
        for r in order[start : start + step]:
            mask[r["layer"], r["head"]] = 0
        curve.append((int(mask.sum()), score(model, data, mask.clone(), prefix).accuracy))
    return curve


@torch.inference_mode()
def collect_weights(model, data: Encoded, limit=512, batch_size=128):
    """Attention weights of the first `limit` texts: list over texts of per-layer (H, T, T) arrays, unpadded."""
    cfg = model.cfg
    sub = Encoded(data.ids[:limit], data.labels[:limit])
    out = [None] * len(sub)
    for idx, ids, kpm, _ in batches_by_length(sub, batch_size):
        _, weights = model(ids, kpm if cfg.pad_mask else None, is_causal=cfg.causal)
        for b, i in enumerate(idx.tolist()):
            out[i] = [w[b].numpy() for w in weights]  # (H, T, T): no <pad> in the batch, nothing to cut
    return out


def diagnostics(samples, layer=0):
    """Per head of one layer: entropy (nats, mean over query rows) and share of attention on self, previous, first
    and last token (MiniLM's [CLS] and [SEP]).

    samples: list of per-layer (H, T, T) arrays as from collect_weights (real tokens only).
    Returns dict name -> (H,) array.
    """
    sums = dict(entropy=0.0, self=0.0, previous=0.0, first=0.0, last=0.0)
    rows = 0
    for per_layer in samples:
        w = per_layer[layer]  # (H, T, T)
        T = w.shape[-1]
        sums["entropy"] = sums["entropy"] + entropy(w).sum(-1)
        sums["self"] = sums["self"] + np.trace(w, axis1=1, axis2=2)
        sums["previous"] = sums["previous"] + (np.diagonal(w, offset=-1, axis1=1, axis2=2).sum(-1) if T > 1 else 0.0)
        sums["first"] = sums["first"] + w[:, :, 0].sum(-1)
        sums["last"] = sums["last"] + w[:, :, -1].sum(-1)
        rows += T
    return {k: np.asarray(v) / max(rows, 1) for k, v in sums.items()}


def entropy(w):
    """Entropy in nats of each attention row: (..., T) -> (...). Zero-weight keys contribute nothing."""
    w = np.asarray(w, dtype=np.float64)
    return -(w * np.log(np.where(w > 0, w, 1.0))).sum(-1)


def similarity(samples, layer=0):
    """(H, H) correlation between heads' weights, over every query row of every text."""
    flat = np.concatenate([s[layer].reshape(s[layer].shape[0], -1) for s in samples], axis=1)  # (H, sum T^2)
    if flat.shape[0] == 1:
        return np.ones((1, 1))
    return np.nan_to_num(np.corrcoef(flat), nan=0.0)


def position_hits(samples, targets, layer=0):
    """How often each head's strongest attention from a query lands on a known key.

    targets: per sample, a list of (query position, key position) pairs (or [] when unknown).
    Returns (H, K) array: share of samples where head h's argmax for target k's query is target k's key.
    """
    hits, n = None, 0
    for per_layer, tg in zip(samples, targets):
        if not tg:
            continue
        w = per_layer[layer]  # (H, T, T)
        row = np.array([[w[h, q].argmax() == k for q, k in tg] for h in range(w.shape[0])], dtype=float)
        hits = row if hits is None else hits + row
        n += 1
    return hits / n if n else None


def validation_of(run, limit=None):
    """The run's validation split encoded with its own tokenizer: (Encoded, texts). DataError if it can't be rebuilt.

    A run trained on an upload keeps its split in its folder; a built-in dataset is rebuilt with the run's seed.
    """
    from attention.data.batching import encode
    from attention.data.registry import DATASETS, load_dataset
    from attention.data.types import DataError, Split
    from attention.training.checkpoints import read_validation

    name = run.meta.get("dataset")
    saved = read_validation(run.path)
    if saved is not None:
        split = Split(saved["texts"], saved["labels"])
    elif name in DATASETS:
        split = load_dataset(name, seed=run.meta.get("train", {}).get("seed", 0)).val
    else:
        raise DataError(
            f"this run was trained on an uploaded file ({name}) before runs kept their validation texts, so there "
            "is nothing to measure its heads on. Train it again on the Train page to analyse it here"
        )
    split = split if limit is None else Split(split.texts[:limit], split.labels[:limit])
    return encode(run.tokenizer, split, run.model.cfg.max_len), split.texts


def lab_limit(cfg, limit=1000):
    """How many validation texts the lab measures: up to 1,000, fewer for bigger models (about a minute for
    MiniLM's 72 heads on 2 cores)."""
    return limit if cfg.num_layers * cfg.d_model <= 512 else 300


def lab_report(run, limit=None):
    """Everything the Heads lab shows for one model, on (up to `limit` texts of) its validation split.

    Numbers only, no attention weights (hundreds of (H, T, T) arrays): the page caches the report per model.
    """
    limit = limit or lab_limit(run.model.cfg)
    data, texts = validation_of(run, limit)
    prefix = layer_inputs(run.model, data)
    full, rows = ablation(run.model, data, prefix)
    curve = pruning_curve(run.model, data, rows, prefix)
    del prefix  # every layer's hidden states: tens of MB for MiniLM
    samples = collect_weights(run.model, data, limit=min(limit, 512))
    layers = range(run.model.cfg.num_layers)
    hits = None
    if run.meta.get("dataset") == "synthetic":
        itos = run.tokenizer.itos  # the validation texts are encoded already: read their tokens back
        targets = [query_key_pairs([itos[i] for i in ids.tolist()]) for ids in data.ids[: len(samples)]]
        hits = [position_hits(samples, targets, layer) for layer in layers]
    diags = [diagnostics(samples, layer) for layer in layers]
    mean_len = float(np.mean([s[0].shape[-1] for s in samples]))  # tokens per text (every layer alike)
    return dict(
        full=full,
        rows=rows,
        curve=curve,
        diagnostics=diags,
        roles=[head_roles(d, mean_len) for d in diags],
        similarity=[similarity(samples, layer) for layer in layers],
        mean_len=mean_len,
        position_hits=hits,  # synthetic task only: per layer, (H, 2) shares on the true left/right number
        texts=texts,
        labels=data.labels.numpy(),
        names=head_names(run.model.cfg),
    )


def head_roles(diag, mean_len):
    """role() of every head of one layer, from that layer's diagnostics()."""
    keys = ("entropy", "self", "previous", "first")
    return [role(*(diag[k][h] for k in keys), mean_len, diag["last"][h]) for h in range(len(diag["self"]))]


def role(entropy_, self_, prev, first, T_mean, last=0.0):
    """A short name for what a head mostly does, from its diagnostics."""
    shares = ("self", self_), ("previous token", prev), ("first token", first), ("last token", last)
    top = max(shares, key=lambda kv: kv[1])
    if top[1] >= 0.5:
        return top[0]
    if entropy_ >= 0.8 * math.log(max(T_mean, 2)):
        return "broad (near uniform)"
    return "content (specific words)"

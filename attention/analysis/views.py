"""Views of one sentence's attention beyond a single layer: across layers (average, rollout) and over words
rather than word pieces. Arrays in, arrays out; per-layer weights are (H, T, T) as analyze() gives them."""

import numpy as np


def layer_means(weights) -> np.ndarray:
    """(L, T, T): each layer's average over its heads."""
    return np.stack([w.mean(0) for w in weights])


def rollout(weights, residual=True) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020), (T, T): per layer the heads' average plus the identity (the
    residual connection), rows renormalised to 1, then the layers multiplied, first layer rightmost. Row i says
    how much of each input token reaches token i's output after the last layer, following attention alone.
    A query whose keys were all masked (a zero row) keeps only its own residual path (without the residual:
    stays 0)."""
    T = weights[0].shape[-1]
    out = np.eye(T)
    for a in layer_means(weights).astype(np.float64):
        a = a + np.eye(T) * residual
        out = (a / np.where(a.sum(-1, keepdims=True) > 0, a.sum(-1, keepdims=True), 1)) @ out
    return out.astype(np.float32)


def word_groups(tokens, words):
    """Which pieces make up each shown word: (groups, labels). words[i] is the index of the word piece i came from,
    None for pieces of their own ([CLS], [SEP], [PAD]). A label joins its pieces, dropping WordPiece's '##'."""
    groups, labels, last = [], [], object()
    for i, (tok, w) in enumerate(zip(tokens, words)):
        if w is not None and w == last:
            groups[-1].append(i)
            labels[-1] += tok.removeprefix("##")
        else:
            groups.append([i])
            labels.append(tok)
        last = w
    return groups, labels


def merge_pieces(w, groups) -> np.ndarray:
    """(..., T, T) weights over pieces -> (..., W, W) over words: a word's weight as a key is the sum over its
    pieces (so rows still sum to 1), and as a query the average of its pieces' rows."""
    T = w.shape[-1]
    member = np.zeros((len(groups), T), dtype=np.float64)  # (W, T): 1 where piece t belongs to word g
    for g, idx in enumerate(groups):
        member[g, idx] = 1
    avg = member / member.sum(1, keepdims=True)
    return (avg @ np.asarray(w, dtype=np.float64) @ member.T).astype(np.float32)


def strongest_head(weights):
    """(H, T, T) -> (head (T, T) int, weight (T, T)): for each query and key, the head that attends most, and its
    weight (the Illustrated Transformer's picture of several heads at once, one colour each)."""
    w = np.asarray(weights)
    return w.argmax(0), w.max(0)

"""The textbook's numbers, computed: why scores are divided by √d_k, and what attention costs.

Plain numpy; every function has a hand-worked test (tests/unit/analysis/test_teaching.py).
"""

import numpy as np


def dot_products(d_k, n=4000, seed=0):
    """n samples of q·k for q and k with d_k independent N(0, 1) components: (raw, raw / √d_k). The raw ones have
    variance d_k, the scaled ones 1 (Attention Is All You Need, footnote 4)."""
    rng = np.random.default_rng(seed)
    raw = (rng.standard_normal((n, d_k)) * rng.standard_normal((n, d_k))).sum(1)
    return raw, raw / np.sqrt(d_k)


def softmax(scores):
    """Row-wise softmax of (..., T) scores, the largest subtracted first."""
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def peak(scores):
    """The largest weight of each row's softmax: 1/T when uniform, 1 when all of it goes to one key."""
    return softmax(np.asarray(scores, dtype=np.float64)).max(-1)


def score_rows(d_k, T=10, rows=2000, seed=0):
    """rows rows of T random scores q·k (as dot_products), raw and scaled: ((rows, T), (rows, T))."""
    raw, scaled = dot_products(d_k, rows * T, seed)
    return raw.reshape(rows, T), scaled.reshape(rows, T)


def attention_cost(d_model, heads, T):
    """One self-attention layer of `heads` heads on T tokens: parameters (W_q, W_k, W_v, W_o with their biases),
    multiply-adds (the four projections, Q·Kᵀ and weights·V) and attention weights held (one T x T per head).
    d_k = d_model / heads, so only the last depends on the number of heads."""
    d, d_k = d_model, d_model // heads
    projections = 4 * T * d * d  # Q, K, V and the output: each (T x d)·(d x d)
    scores = heads * T * T * d_k  # each head: (T x d_k)·(d_k x T)
    mixing = heads * T * T * d_k  # each head: (T x T)·(T x d_k)
    return dict(heads=heads, d_k=d_k, parameters=4 * d * d + 4 * d, multiply_adds=projections + scores + mixing,
                weights=heads * T * T)  # fmt: skip


def layer_comparison(d, T, kernel=3):
    """d2l.ai 11.6's table for one layer on T tokens of width d: operations (multiply-adds, big-O with the
    constants dropped as there), sequential steps, and the longest path between two tokens."""
    return [
        dict(layer="self-attention", operations=T * T * d, sequential=1, longest_path=1),
        dict(layer="recurrent (RNN)", operations=T * d * d, sequential=T, longest_path=T),
        dict(
            layer=f"convolution (kernel {kernel})",
            operations=kernel * T * d * d,
            sequential=1,
            longest_path=int(np.ceil(T / kernel)),
        ),  # fmt: skip
    ]


def position_similarity(table, n=64):
    """(n, n) dot products of the first n positions' encodings (rows of the positional table, (max_len, D))."""
    t = np.asarray(table[:n], dtype=np.float64)
    return t @ t.T


def head_shares(steps):
    """(H, T, D): what each head adds to the attention output, from a stages.trace: its output times its d_k rows
    of W_o. The output is their sum plus b_o; a switched-off head adds zeros."""
    H, _, d_k = steps.heads_out.shape
    return np.stack([steps.heads_out[h] @ steps.w_o[h * d_k : (h + 1) * d_k] for h in range(H)])

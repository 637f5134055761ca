"""Across layers and over words: rollout and merged word pieces, against hand-computed cases and a real sentence."""

from pathlib import Path

import numpy as np

from attention.analysis.sentence import Masks, analyze
from attention.analysis.views import layer_means, merge_pieces, rollout, word_groups
from attention.training.checkpoints import load_run

ROOT = Path(__file__).resolve().parents[3]


def test_rollout_by_hand_one_and_two_layers():
    a = np.array([[[1.0, 0.0], [0.5, 0.5]]])  # one head: (1, 2, 2)
    one = rollout([a])  # (A + I) / row sums = [[2, 0], [.5, 1.5]] / [2, 2]
    assert np.allclose(one, [[1.0, 0.0], [0.25, 0.75]])
    b = np.array([[[0.0, 1.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])  # two heads, mean [[0, 1], [.5, .5]]
    # layer 2 with the residual: [[1, 1], [.5, 1.5]] / 2 = [[.5, .5], [.25, .75]]; times layer 1's [[1, 0], [.25, .75]]
    two = rollout([a, b])
    assert np.allclose(two, np.array([[0.5, 0.5], [0.25, 0.75]]) @ np.array([[1.0, 0.0], [0.25, 0.75]]))
    assert np.allclose(layer_means([a, b])[1], [[0.0, 1.0], [0.5, 0.5]])


def test_rollout_rows_sum_to_one_on_minilm_even_with_masked_rows():
    run = load_run(ROOT / "models" / "minilm-tweets")
    a = analyze(run.model, run.tokenizer, "the crew were lovely", Masks(pad_to=9, pad_mask=True))
    r = rollout(a.weights)
    assert r.shape == (9, 9) and np.allclose(r.sum(-1), 1, atol=1e-5) and (r >= 0).all()
    assert np.allclose(r[:6, -3:], 0, atol=1e-6)  # [PAD] keys masked in every layer: nothing reaches the words
    assert a.tokens[-3:] == ["[PAD]"] * 3 and a.n_pad == 3 and a.words[-3:] == [None] * 3


def test_word_groups_join_pieces_and_keep_special_tokens_apart():
    tokens = ["[CLS]", "un", "##believ", "##able", "food", "[SEP]", "[PAD]"]
    words = [None, 0, 0, 0, 1, None, None]
    groups, labels = word_groups(tokens, words)
    assert groups == [[0], [1, 2, 3], [4], [5], [6]]
    assert labels == ["[CLS]", "unbelievable", "food", "[SEP]", "[PAD]"]


def test_merged_weights_sum_over_keys_and_average_over_queries():
    w = np.array(
        [
            [0.5, 0.25, 0.25],
            [0.0, 1.0, 0.0],
            [0.2, 0.2, 0.6],
        ]
    )
    m = merge_pieces(w, [[0], [1, 2]])  # pieces 1 and 2 make one word
    # query word 0 = row 0: keys [0.5, 0.25 + 0.25]; query word 1 = mean of rows 1 and 2: [0.1, 0.9]
    assert np.allclose(m, [[0.5, 0.5], [0.1, 0.9]])
    stack = merge_pieces(np.stack([w, w]), [[0], [1, 2]])  # (H, T, T) as analyze gives a layer
    assert stack.shape == (2, 2, 2) and np.allclose(stack[1], m)


def test_a_long_word_merges_on_a_real_sentence():
    run = load_run(ROOT / "models" / "minilm-tweets")
    a = analyze(run.model, run.tokenizer, "unbelievably rude staff")
    groups, labels = word_groups(a.tokens, a.words)
    assert labels == ["[CLS]", "unbelievably", "rude", "staff", "[SEP]"] and len(a.tokens) > len(labels)
    merged = merge_pieces(a.weights[0], groups)
    assert merged.shape == (12, 5, 5) and np.allclose(merged.sum(-1), 1, atol=1e-5)


def test_strongest_head_by_hand():
    from attention.analysis.views import strongest_head

    w = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.6, 0.4]]])  # 2 heads, 2 tokens
    head, weight = strongest_head(w)
    assert head.tolist() == [[0, 1], [1, 0]] and np.allclose(weight, [[0.9, 0.7], [0.6, 0.8]])

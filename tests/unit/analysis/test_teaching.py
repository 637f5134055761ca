"""attention.analysis.teaching, against cases worked by hand and against the model's own modules."""

import math

import numpy as np
import pytest

from attention.analysis.teaching import attention_cost, dot_products, layer_comparison, peak, score_rows, softmax
from attention.core.mha import MultiHeadAttention


def test_softmax_and_peak_by_hand():
    # three keys with scores 0, 0, ln 2: exp gives 1, 1, 2, so the weights are 1/4, 1/4, 1/2
    assert np.allclose(softmax(np.array([0.0, 0.0, math.log(2)])), [0.25, 0.25, 0.5])
    assert peak([0.0, 0.0, math.log(2)]) == pytest.approx(0.5)
    assert peak([[1.0, 1.0, 1.0, 1.0]])[0] == pytest.approx(0.25)  # uniform: 1/T
    assert peak([100.0, 0.0]) == pytest.approx(1.0)  # softmax(100, 0) puts all but e^-100 on the first key


def test_raw_dot_products_grow_with_d_k_and_scaled_ones_do_not():
    for d_k in (4, 64, 256):
        raw, scaled = dot_products(d_k, n=20000)
        assert raw.var() == pytest.approx(d_k, rel=0.05) and scaled.var() == pytest.approx(1, rel=0.05)
    raw, scaled = score_rows(256, T=10)
    assert peak(raw).mean() > 0.8 > 0.5 > peak(scaled).mean()  # unscaled, one key takes nearly everything


def test_attention_cost_by_hand_and_against_the_module():
    # d = 4, 2 heads (d_k = 2), 3 tokens: 4·16 + 4·4 = 80 parameters; 4·3·16 = 192 for the projections,
    # 2 heads · 9 · 2 = 36 for the scores and 36 for weights·V: 264 multiply-adds; 2 · 9 = 18 weights
    assert attention_cost(4, 2, 3) == dict(heads=2, d_k=2, parameters=80, multiply_adds=264, weights=18)
    for h in (1, 2, 4, 8):
        cost = attention_cost(64, h, 20)
        mha = MultiHeadAttention(64, h)
        assert cost["parameters"] == sum(p.numel() for p in mha.parameters())
        assert cost["multiply_adds"] == attention_cost(64, 1, 20)["multiply_adds"]  # the same for every h
    assert attention_cost(64, 4, 40)["weights"] == 4 * attention_cost(64, 4, 20)["weights"]  # T doubled: 4x


def test_layer_comparison_as_in_d2l():
    rows = {r["layer"].split()[0]: r for r in layer_comparison(d=8, T=12, kernel=3)}
    assert rows["self-attention"] == dict(layer="self-attention", operations=12 * 12 * 8, sequential=1, longest_path=1)
    assert rows["recurrent"]["operations"] == 12 * 64 and rows["recurrent"]["longest_path"] == 12
    assert rows["convolution"]["operations"] == 3 * 12 * 64 and rows["convolution"]["longest_path"] == 4


def test_sinusoidal_positions_are_alike_by_their_distance_alone():
    from attention.analysis.teaching import position_similarity
    from attention.core.model import sinusoidal_table

    sim = position_similarity(sinusoidal_table(128, 16).numpy(), n=40)
    assert np.allclose(np.diag(sim), 8)  # sin² + cos² = 1 for each of the 8 pairs of dimensions
    for offset in (1, 5, 17):  # sin a sin b + cos a cos b = cos(a - b): the same along every diagonal
        assert np.allclose(np.diag(sim, offset), np.diag(sim, offset)[0], atol=1e-5)
    assert sim[0, 1] > sim[0, 20]  # near positions are more alike than far ones


def test_the_heads_shares_add_up_to_the_attention_output():
    import torch

    from attention.analysis.sentence import Masks
    from attention.analysis.stages import trace
    from attention.analysis.teaching import head_shares
    from attention.core.model import AttentionClassifier, ModelConfig
    from attention.core.tokenizer import Tokenizer

    tok = Tokenizer.build(["the cat sat on the mat"], min_freq=1)
    torch.manual_seed(0)
    model = AttentionClassifier(ModelConfig(vocab_size=len(tok), num_classes=2, d_model=8, num_heads=2)).eval()
    t = trace(model, tok, "the cat sat", Masks(removed_heads=((0, 1),)), 0, 0)
    shares = head_shares(t)
    assert shares.shape == (2, 3, 8) and np.allclose(shares.sum(0) + t.b_o, t.output, atol=1e-5)
    assert np.allclose(shares[0], t.share, atol=1e-6) and not shares[1].any()  # head 2 is off: it adds nothing

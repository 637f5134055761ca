"""The classifier around the attention: positions from the paper's formula, pooling that ignores <pad>."""

import math

import pytest
import torch

from attention.core.model import AttentionClassifier, ModelConfig, sinusoidal_table


def test_sinusoidal_table_is_the_papers_formula():
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)); d = 4, by hand."""
    t = sinusoidal_table(3, 4)
    expected = [
        [0.0, 1.0, 0.0, 1.0],  # position 0: sin 0, cos 0
        [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],  # 10000^(2/4) = 100
        [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
    ]
    assert torch.allclose(t, torch.tensor(expected), atol=1e-6)
    far = sinusoidal_table(101, 4)[100]  # position 100: the second frequency's phase is 100 * 0.01 = 1 radian
    assert torch.allclose(far, torch.tensor([math.sin(100), math.cos(100), math.sin(1), math.cos(1)]), atol=1e-5)


@pytest.mark.parametrize("pad_mask", [True, False])
def test_padding_a_sentence_changes_nothing_when_pad_keys_are_masked(pad_mask):
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=20, num_classes=3, d_model=16, num_heads=4, num_layers=2, dropout=0.0)
    model = AttentionClassifier(cfg).eval()
    ids = torch.tensor([[5, 7, 9]])
    padded = torch.tensor([[5, 7, 9, 0, 0]])
    alone, _ = model(ids)
    logits, _ = model(padded, padded == 0 if pad_mask else None)
    if pad_mask:  # pad keys masked, pooling over real tokens: the same prediction, to float precision
        assert torch.allclose(logits, alone, atol=1e-5)
    else:  # the real tokens attend to the pads: the logits move (so the check above can fail)
        assert not torch.allclose(logits, alone, atol=1e-3)


def test_pooling_averages_real_tokens_only():
    x = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    pooled = AttentionClassifier.pool(x, torch.tensor([[False, False, True]]))
    assert torch.equal(pooled, torch.tensor([[2.0, 3.0]]))
    one = AttentionClassifier.pool(x, torch.tensor([[False, True, True]]))  # a one-token sentence: that token
    assert torch.equal(one, torch.tensor([[1.0, 2.0]]))

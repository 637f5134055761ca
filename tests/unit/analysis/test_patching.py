"""attention.analysis.patching: patched runs against their definitions (all of a layer's input from the clean run
is the clean run; a piece equal in both runs restores nothing), batched against one patch at a time."""

import numpy as np
import pytest
import torch

from attention.analysis.patching import Run, head_columns, log_odds, patch
from attention.analysis.sentence import Masks, resolve
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer

TOK = Tokenizer.build(["the cat sat on the mat", "a dog ran", "the dog sat"], min_freq=1)
CLEAN, CORRUPT = "the cat sat on the mat", "the cat sat on the dog"


def small(**kw):
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=len(TOK), num_classes=3, d_model=16, num_heads=4, num_layers=3, d_ff=32, **kw)
    return AttentionClassifier(cfg).eval()


def runs(model):
    masks = resolve(Masks(), model.cfg)
    return Run(model, TOK, CLEAN, masks), Run(model, TOK, CORRUPT, masks)


@torch.inference_mode()
def test_the_clean_input_at_any_layer_gives_the_clean_output_and_no_patch_the_corrupted_one():
    model = small()
    good, bad = runs(model)
    for layer in range(3):
        assert torch.equal(bad.patched(good.inputs[layer], layer), good.logits)  # the residual at every position
        none = torch.zeros(1, 16, dtype=torch.bool)
        assert torch.equal(bad.patched(bad.inputs[layer], layer, none, good), bad.logits)  # nothing patched
        every = torch.ones(1, 16, dtype=torch.bool)  # every head of the last layers from the clean run, and its input
        assert torch.allclose(bad.patched(good.inputs[layer], layer, every, good), good.logits, atol=1e-6)


@torch.inference_mode()
def test_batched_heads_equal_one_patch_at_a_time_and_the_residual_grid_is_per_position():
    model = small()
    got = patch(model, TOK, CLEAN, CORRUPT)
    good, bad = runs(model)
    gap = log_odds(good.logits, got.cls) - log_odds(bad.logits, got.cls)
    for layer in range(3):
        for h in range(4):
            one = bad.patched(bad.inputs[layer], layer, head_columns([h], 4, 16), good)
            want = (log_odds(one, got.cls) - log_odds(bad.logits, got.cls)) / gap
            assert got.heads[layer, h] == pytest.approx(want.item(), abs=1e-5)
    assert got.residual[0, 5] == pytest.approx(1, abs=1e-6)  # layer 1's input at the changed word: all of it
    assert np.abs(got.heads).max() > 0.01  # the heads do carry something here


def test_with_a_causal_mask_positions_before_the_change_restore_nothing():
    got = patch(small(), TOK, CLEAN, CORRUPT, Masks(causal=True))
    # every layer's input before the last word is the same in both runs (to float32's rounding, batched)
    assert np.abs(got.residual[:, :5]).max() < 1e-6
    assert got.residual[0, 5] == pytest.approx(1, abs=1e-6)


def test_sentences_of_different_lengths_are_refused_and_equal_ones_restore_nothing():
    with pytest.raises(ValueError, match="has 6 tokens and the corrupted one 3"):
        patch(small(), TOK, CLEAN, "a dog ran")
    same = patch(small(), TOK, CLEAN, CLEAN)
    assert same.p_clean == same.p_corrupt and not same.heads.any() and not same.residual.any()

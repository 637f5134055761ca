"""attention.analysis.patching: patched runs against their definitions (all of a layer's input from the clean run
is the clean run; a piece equal in both runs restores nothing), batched against one patch at a time."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from attention.analysis.heads import collect_weights, position_hits, validation_of
from attention.analysis.patching import Run, head_columns, log_odds, patch
from attention.analysis.sentence import Masks, resolve
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.data.synthetic import MARKER, make_example, query_key_pairs
from attention.training.checkpoints import load_run

ROOT = Path(__file__).resolve().parents[3]

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
        nothing = bad.patched(bad.inputs[layer], layer, none, good)  # the layer from its parts: float32's rounding
        assert torch.allclose(nothing, bad.logits, atol=1e-6)
        every = torch.ones(1, 16, dtype=torch.bool)  # every head of the last layers from the clean run, and its input
        assert torch.allclose(bad.patched(good.inputs[layer], layer, every, good), good.logits, atol=1e-6)


@torch.inference_mode()
@pytest.mark.parametrize("masks", [Masks(), Masks(pad_to=8, pad_mask=True, causal=True, removed_heads=((1, 2),))])
def test_a_layer_from_its_parts_is_the_models_own_layer(masks):
    model = small()
    masks = resolve(masks, model.cfg)
    r = Run(model, TOK, CLEAN, masks)
    for layer in range(3):
        x = r.inputs[layer]
        mine = r.finish_layer(x, layer, r.concat_heads(x, layer))
        pad = r.kpm
        theirs = model.blocks[layer](x, pad, r.attn, masks.causal, False, r.head_mask[layer])[0]
        assert torch.allclose(mine, theirs, atol=1e-5) and torch.equal(r.inputs[layer + 1], theirs)


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


def flipped_pairs(n, seed=1):
    """n synthetic sentences, each with two corrupted copies: the number left of "vs" changed so that the label
    flips, and the one right of it: [(side, clean, corrupt)], side 0 = left, 1 = right."""
    rng, out = random.Random(seed), []
    for _ in range(n):
        text, label = make_example(rng)
        words = text.split()
        i = words.index(MARKER)
        a, b = int(words[i - 1]), int(words[i + 1])
        for side in (0, 1):
            # left changed: pick one on the other side of b than a; right changed: on the other side of a than b
            other, mine = (b, a) if side == 0 else (a, b)
            flips = [n for n in range(1, 10) if n != other and (n > other) != (mine > other)]
            if not flips:  # the other number is 1 or 9: no digit beats it the other way
                continue
            changed = list(words)
            changed[i - 1 if side == 0 else i + 1] = str(rng.choice(flips))
            out.append((side, text, " ".join(changed)))
    return out


@pytest.mark.parametrize("name", ["synthetic-2h", "synthetic-4h", "synthetic-8h"])
def test_on_the_synthetic_task_the_heads_that_find_a_number_are_the_ones_whose_patching_restores_it(name):
    """The Heads lab's table (how often a head's strongest attention from "vs" lands on the left or right number)
    against patching: changing one number, the heads the lab says read that side carry the change back."""
    run = load_run(ROOT / "models" / name)
    data, _ = validation_of(run, 500)
    samples = collect_weights(run.model, data, 500)
    itos = run.tokenizer.itos
    targets = [query_key_pairs([itos[i] for i in ids.tolist()]) for ids in data.ids[: len(samples)]]
    hits = position_hits(samples, targets, 0).T  # (2, H): left, right
    restored = [[], []]
    for side, clean, corrupt in flipped_pairs(40):
        p = patch(run.model, run.tokenizer, clean, corrupt)
        if p.p_clean - p.p_corrupt > 0.5:  # the change flipped the model's answer: something to restore
            restored[side].append(p.heads[0])
    restored = np.array([np.mean(r, 0) for r in restored])  # (2, H)
    for side in (0, 1):
        finders, others = hits[side] >= 0.3, hits[side] < 0.05
        assert finders.any() and others.any()
        assert restored[side, finders].max() > 0.5  # a head that finds the changed number brings most of it back
        assert restored[side, others].max() < 0.15  # a head that never looks there brings back next to nothing
    assert np.corrcoef(hits.ravel(), restored.ravel())[0, 1] > 0.8

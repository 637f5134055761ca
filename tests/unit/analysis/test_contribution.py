"""attention.analysis.contribution: each head's contribution from batched ablations equals switching that head off
alone, one forward pass at a time (analyze with one more removed head), on a small model and on MiniLM."""

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from attention.analysis.contribution import head_contributions
from attention.analysis.sentence import Masks, analyze
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.training.checkpoints import load_run

ROOT = Path(__file__).resolve().parents[3]
TOK = Tokenizer.build(["the cat sat on the mat", "a dog ran", "the dog sat"], min_freq=1)


def small(**kw):
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=len(TOK), num_classes=3, d_model=16, num_heads=4, num_layers=3, d_ff=32, **kw)
    return AttentionClassifier(cfg).eval()


def one_at_a_time(model, tok, text, masks):
    """(class, its probability, {(layer, head): drop of its probability}) from one analyze per head still on."""
    base = analyze(model, tok, text, masks)
    c, out, cfg = base.pred, {}, model.cfg
    for layer, head in itertools.product(range(cfg.num_layers), range(cfg.num_heads)):
        if (layer, head) not in masks.removed_heads:
            off = analyze(model, tok, text, replace(masks, removed_heads=(*masks.removed_heads, (layer, head))))
            out[layer, head] = base.probs[c] - off.probs[c]
    return c, base.probs[c], out


@pytest.mark.parametrize(
    "masks",
    [Masks(), Masks(pad_to=7, pad_mask=True, causal=True), Masks(hidden=(1,), removed_heads=((0, 1), (2, 3)))],
)
def test_batched_equals_one_head_at_a_time_and_heads_already_off_give_exactly_zero(masks):
    model = small()
    got = head_contributions(model, TOK, "the cat sat on the mat", masks)
    c, p, want = one_at_a_time(model, TOK, "the cat sat on the mat", masks)
    assert got.cls == c and got.prob == pytest.approx(p, abs=1e-6)
    for (layer, head), dp in want.items():
        assert got.d_prob[layer, head] == pytest.approx(dp, abs=1e-6)
    assert np.abs(got.d_prob).max() > 1e-4  # the heads do matter here, so the comparison tells something
    for layer, head in masks.removed_heads:
        assert got.d_prob[layer, head] == 0 and got.d_logit[layer, head] == 0


def test_the_logit_change_is_the_change_of_the_class_logit():
    model = small()
    text = "a dog ran"
    got = head_contributions(model, TOK, text)
    ids = torch.tensor([TOK.encode(text, 128).ids])
    with torch.inference_mode():
        base = model(ids)[0][0, got.cls]
        hm = torch.ones(3, 4)
        hm[1, 2] = 0
        off = model(ids, head_mask=hm)[0][0, got.cls]
    assert got.d_logit[1, 2] == pytest.approx(float(base - off), abs=1e-5)
    assert got.logit == pytest.approx(float(base), abs=1e-5)


def test_ranked_orders_by_size_of_the_change():
    got = head_contributions(small(), TOK, "the dog sat")
    ranked = got.ranked()
    sizes = [abs(dp) for *_, dp, _ in ranked]
    assert len(ranked) == 12 and sizes == sorted(sizes, reverse=True)
    assert got.ranked(3) == ranked[:3]


def test_minilm_batched_equals_one_head_at_a_time():
    run = load_run(ROOT / "models" / "minilm-tweets")
    text = "the crew were great but my bag is lost"
    got = head_contributions(run.model, run.tokenizer, text)
    c, p, want = one_at_a_time(run.model, run.tokenizer, text, Masks())
    assert got.cls == c and got.d_prob.shape == (6, 12)
    assert max(abs(got.d_prob[k] - dp) for k, dp in want.items()) < 1e-5
    assert np.abs(got.d_prob).max() > 0.01

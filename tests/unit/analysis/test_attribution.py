"""attention.analysis.attribution: rollout, gradient-weighted rollout and integrated gradients, against hand-worked
cases, the model's own forward and backward pass, and completeness (on a small model and on MiniLM)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from attention.analysis.attribution import IG_TOLERANCE, attribute, grad_rollout, token_shares
from attention.analysis.sentence import Masks
from attention.analysis.views import rollout
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.training.checkpoints import load_run

ROOT = Path(__file__).resolve().parents[3]
TOK = Tokenizer.build(["the cat sat on the mat", "a dog ran", "the dog sat"], min_freq=1)


def small():
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=len(TOK), num_classes=3, d_model=16, num_heads=4, num_layers=2, d_ff=32)
    return AttentionClassifier(cfg).eval()


def test_rollout_rows_sum_to_one_and_without_residual_one_layer_is_its_average():
    rng = np.random.default_rng(0)
    w = [rng.dirichlet(np.ones(5), size=(3, 5)).astype(np.float32) for _ in range(2)]  # 2 layers of (3, 5, 5)
    assert np.allclose(rollout(w).sum(-1), 1, atol=1e-6)
    assert np.allclose(rollout(w[:1], residual=False), w[0].mean(0), atol=1e-6)
    # by hand, one layer, one head: (A + I) / 2 when A's rows sum to 1
    a = np.array([[[0.5, 0.5], [0.2, 0.8]]], np.float32)
    assert np.allclose(rollout([a]), [[0.75, 0.25], [0.1, 0.9]])


def test_grad_rollout_by_hand():
    a = np.array([[[0.5, 0.5], [0.2, 0.8]]])  # one layer, one head
    g = np.array([[[1.0, -1.0], [2.0, 0.0]]])
    # (g * a)+ = [[0.5, 0], [0.4, 0]]; R = I + that @ I; minus the starting I
    assert np.allclose(grad_rollout([a], [g]), [[0.5, 0], [0.4, 0]])
    # two layers: R1 = I + B; R2 = R1 + B @ R1 with B as above
    b = np.array([[0.5, 0], [0.4, 0]])
    r1 = np.eye(2) + b
    assert np.allclose(grad_rollout([a, a], [g, g]), r1 + b @ r1 - np.eye(2))
    assert np.allclose(token_shares(np.array([[1.0, 3.0], [3.0, 1.0], [9.0, 9.0]]), np.array([1, 1, 0], bool)), 0.5)


def test_grad_rollout_uses_the_gradients_of_the_models_own_backward_pass():
    model, text = small(), "the cat sat on the mat"
    got = attribute(model, TOK, text)
    ids = torch.tensor([TOK.encode(text, 128).ids])
    logits, weights = model(ids)  # the model's own forward, gradients from .backward()
    for w in weights:
        w.retain_grad()
    logits[0, got.cls].backward()
    want = grad_rollout([w[0].detach().numpy() for w in weights], [w.grad[0].numpy() for w in weights])
    assert np.allclose(got.grad_rollout, token_shares(want, np.ones(6, bool)), atol=1e-6)
    assert got.rollout.sum() == pytest.approx(1, abs=1e-5) and got.grad_rollout.sum() == pytest.approx(1, abs=1e-5)
    assert got.logit == pytest.approx(logits[0, got.cls].item(), abs=1e-5)


@pytest.mark.parametrize("masks", [Masks(), Masks(pad_to=8, pad_mask=True, causal=True, removed_heads=((0, 1),))])
def test_integrated_gradients_are_complete(masks):
    got = attribute(small(), TOK, "the dog sat on the mat", masks)
    gap = got.logit - got.baseline_logit
    assert abs(got.ig.sum() - gap) <= IG_TOLERANCE * abs(gap) and abs(gap) > 1e-3
    assert got.baseline == "every token <pad>" and len(got.ig) == max(6, masks.pad_to)


def test_the_baseline_is_every_token_pad_pooled_over_the_real_tokens():
    model = small()
    got = attribute(model, TOK, "the dog sat on the mat")
    with torch.inference_mode():  # <pad> embeds to zeros (padding_idx): positions alone, averaged over all 6 tokens
        x = model.embed_tokens(torch.full((1, 6), TOK.pad_id))
        for block in model.blocks:
            x, _ = block(x)
        want = model.head(x.mean(1))[0, got.cls].item()
    assert got.baseline_logit == pytest.approx(want, abs=1e-4)


def test_minilm_integrated_gradients_complete_within_a_second_of_steps():
    run = load_run(ROOT / "models" / "minilm-tweets")
    got = attribute(run.model, run.tokenizer, "the crew were great but my bag is lost")
    gap = got.logit - got.baseline_logit
    assert abs(got.ig.sum() - gap) <= IG_TOLERANCE * abs(gap)
    assert got.ig[0] == 0 and got.ig[-1] == 0  # [CLS] and [SEP] are the same in the baseline: no attribution
    assert "[CLS] and [SEP] kept" in got.baseline and got.steps <= 128
    assert not any(p.grad is not None for p in run.model.parameters())  # nothing left behind on the shared model

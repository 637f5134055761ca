"""Head analysis on hand-made attention tensors and tiny models: known entropy, positions, verdicts."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from attention.analysis.heads import (
    ablation,
    collect_weights,
    diagnostics,
    entropy,
    layer_inputs,
    position_hits,
    pruning_curve,
    role,
    score,
    similarity,
)
from attention.core.model import AttentionClassifier, ModelConfig
from attention.data.batching import Encoded


def test_entropy_known_values():
    assert entropy([1.0, 0.0, 0.0]) == 0.0
    assert entropy([0.5, 0.5]) == pytest.approx(math.log(2))
    assert entropy(np.full(4, 0.25)) == pytest.approx(math.log(4))


def hand_made():
    """Two texts of 3 tokens, 3 heads: head 0 looks at itself, head 1 at the previous token, head 2 at the first."""
    eye = np.eye(3)
    prev = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0]], float)
    first = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0]], float)
    w = np.stack([eye, prev, first])  # (3, 3, 3)
    return [[w], [w]]


def test_diagnostics_find_self_previous_and_first_heads():
    d = diagnostics(hand_made())
    assert d["self"].tolist() == pytest.approx([1.0, 1 / 3, 1 / 3])
    assert d["previous"].tolist() == pytest.approx([0.0, 2 / 3, 1 / 3])
    assert d["first"].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert d["entropy"].tolist() == pytest.approx([0.0, 0.0, 0.0])


def test_similarity_identical_heads_correlate_fully():
    w = np.random.default_rng(0).random((1, 4, 4))
    same = [[np.concatenate([w, w, 1 - w])]]  # heads 0 and 1 equal, head 2 the opposite
    s = similarity(same)
    assert s[0, 1] == pytest.approx(1.0) and s[0, 2] == pytest.approx(-1.0)


def test_position_hits_counts_argmax_on_the_true_key():
    samples = hand_made()
    targets = [[(2, 1), (1, 0)], [(2, 1), (1, 0)]]  # query 2 should find key 1, query 1 key 0
    hits = position_hits(samples, targets)
    assert hits.tolist() == [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    assert position_hits(samples, [[], []]) is None


def tiny_model_and_data():
    torch.manual_seed(0)
    m = AttentionClassifier(
        ModelConfig(vocab_size=20, num_classes=2, d_model=8, num_heads=4, num_layers=2, dropout=0.0)
    )
    m.eval()
    ids = [torch.randint(2, 20, (int(n),)) for n in torch.randint(2, 9, (64,))]
    return m, Encoded(ids, torch.randint(0, 2, (64,)))


def test_ablation_and_pruning_use_head_mask():
    m, data = tiny_model_and_data()
    full, rows = ablation(m, data)
    assert len(rows) == 8 and full.accuracy == score(m, data).accuracy
    assert [r["d_loss"] for r in rows] == sorted((r["d_loss"] for r in rows), reverse=True)
    r = rows[0]
    mask = torch.ones(2, 4)
    mask[r["layer"], r["head"]] = 0
    alone = score(m, data, mask)
    assert alone.accuracy - full.accuracy == pytest.approx(r["d_acc"])
    assert set(np.flatnonzero(alone.preds != full.preds)) == set(r["flipped"])
    curve = pruning_curve(m, data, rows)
    assert [k for k, _ in curve] == list(range(8, -1, -1))
    assert curve[0][1] == full.accuracy


def test_a_model_trained_without_the_padding_mask_scores_the_same_at_any_batch_size():
    torch.manual_seed(1)
    m = AttentionClassifier(ModelConfig(vocab_size=30, num_classes=3, d_model=16, num_heads=4, pad_mask=False)).eval()
    ids = [torch.randint(2, 30, (int(n),)) for n in torch.randint(1, 12, (300,))]
    data = Encoded(ids, torch.randint(0, 3, (300,)))
    one = [score(m, data, prefix=layer_inputs(m, data, batch_size=1))]
    for bs in (7, 64, 300):
        s = score(m, data, prefix=layer_inputs(m, data, batch_size=bs))
        assert np.array_equal(s.preds, one[0].preds) and s.loss == pytest.approx(one[0].loss, rel=1e-5)
    for w1, w300 in zip(collect_weights(m, data, batch_size=1), collect_weights(m, data, batch_size=300)):
        assert np.allclose(w1[0], w300[0], atol=1e-6) and np.allclose(w300[0].sum(-1), 1.0, atol=1e-5)  # rows sum to 1


def test_the_lab_report_holds_numbers_not_attention_weights():
    """The page caches one report per model: it must not carry hundreds of (H, T, T) arrays."""
    import pickle

    from attention.analysis.heads import lab_report, validation_of
    from attention.training.checkpoints import MODELS_DIR, load_run

    run = load_run(MODELS_DIR / "synthetic-4h")
    rep = lab_report(run, limit=300)
    assert len(pickle.dumps(rep)) < 100_000
    data, _ = validation_of(run, 300)
    assert rep["mean_len"] == pytest.approx(np.mean([len(ids) for ids in data.ids]))
    hits = rep["position_hits"][0]
    assert hits.shape == (4, 2) and ((0 <= hits) & (hits <= 1)).all()


@pytest.mark.parametrize(
    "diag, T, expected",
    [  # entropy, self, previous, first; uniform over 10 tokens has entropy ln 10 = 2.303, 0.8 of it 1.842
        ((1.0, 0.50, 0.2, 0.1), 10, "self"),
        ((1.0, 0.49, 0.2, 0.1), 10, "content (specific words)"),
        ((1.0, 0.2, 0.50, 0.1), 10, "previous token"),
        ((1.0, 0.2, 0.1, 0.50), 10, "first token"),
        ((1.85, 0.2, 0.2, 0.2), 10, "broad (near uniform)"),
        ((1.83, 0.2, 0.2, 0.2), 10, "content (specific words)"),
        ((0.50, 0.2, 0.2, 0.2), 1, "content (specific words)"),  # one token: against 0.8 ln 2 = 0.55, not ln 1 = 0
        ((0.60, 0.2, 0.2, 0.2), 2, "broad (near uniform)"),  # two tokens: 0.8 ln 2 = 0.55
    ],
)
def test_role_thresholds(diag, T, expected):
    assert role(*diag, T) == expected


def reference_scores(m, data, head_mask):
    """The model's own forward pass, one text at a time, with this head mask: an independent check of score()."""
    with torch.inference_mode():
        logits = torch.cat([m(ids[None], head_mask=head_mask, need_weights=False)[0] for ids in data.ids])
    return logits.argmax(-1).numpy(), torch.nn.functional.cross_entropy(logits, data.labels).item()


@pytest.mark.parametrize("layer, head", [(0, 0), (1, 3), (None, None)])
def test_score_from_a_layers_inputs_equals_the_full_forward_pass(layer, head):
    """Removing a head of layer l reruns layers l.. from saved inputs: same predictions and loss as the model."""
    m, data = tiny_model_and_data()
    mask = torch.ones(2, 4)
    if layer is not None:
        mask[layer, head] = 0
    s = score(m, data, mask, layer_inputs(m, data, batch_size=16))
    preds, loss = reference_scores(m, data, mask)
    assert np.array_equal(s.preds, preds) and s.loss == pytest.approx(loss, rel=1e-5)


def test_minilm_ablation_from_saved_layer_inputs_equals_its_forward_pass():
    from pathlib import Path

    from attention.analysis.heads import validation_of
    from attention.training.checkpoints import load_run

    run = load_run(Path(__file__).resolve().parents[3] / "models" / "minilm-bbc")
    data, _ = validation_of(run, limit=24)
    prefix = layer_inputs(run.model, data, batch_size=8)
    for layer, head in ((0, 5), (3, 0), (5, 11)):
        mask = torch.ones(6, 12)
        mask[layer, head] = 0
        s = score(run.model, data, mask, prefix)
        preds, loss = reference_scores(run.model, data, mask)
        assert np.array_equal(s.preds, preds) and s.loss == pytest.approx(loss, rel=1e-4)


def test_a_pruning_curve_of_many_heads_removes_them_in_groups():
    m = AttentionClassifier(ModelConfig(vocab_size=20, num_classes=2, d_model=24, num_heads=12, num_layers=2)).eval()
    ids = [torch.randint(2, 20, (int(n),)) for n in torch.randint(2, 9, (32,))]
    data = Encoded(ids, torch.randint(0, 2, (32,)))
    _, rows = ablation(m, data)
    curve = pruning_curve(m, data, rows, points=12)
    assert [k for k, _ in curve] == list(range(24, -1, -2))  # 24 heads, 2 at a time


def test_a_heads_mean_contribution_and_top_texts_agree_with_its_contribution_sentence_by_sentence():
    """ablation's per-head contribution over the texts against attention.analysis.contribution, one text at a
    time through the model's own forward pass (the Explore view of the same number)."""
    from attention.analysis.contribution import head_contributions

    m, data = tiny_model_and_data()
    _, rows = ablation(m, data)
    tok = SimpleNamespace(pad_id=0, pad_token="<pad>", encode=lambda text, max_len: SimpleNamespace(ids=text))
    per_text = np.stack([head_contributions(m, tok, ids.tolist()).d_prob for ids in data.ids])  # (N, L, H)
    for r in rows:
        lost = per_text[:, r["layer"], r["head"]]
        assert r["contribution"] == pytest.approx(lost.mean(), abs=1e-6)
        assert np.allclose(lost[r["top"]], np.sort(lost)[::-1][:5], atol=1e-9)

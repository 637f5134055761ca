"""attention.explore: masks change the computation exactly as chosen; exports carry tokens and weights."""

import csv
import io
import json

import numpy as np
import pytest
import torch

from attention.analysis.sentence import Analysis, Masks, analyze, export_csv, export_json, panels
from attention.app.scope import doubts
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import PAD, Tokenizer

TOK = Tokenizer.build(["the cat sat on the mat", "a dog ran", "the dog sat"], min_freq=1)


def model(**kw):
    torch.manual_seed(0)
    cfg = dict(vocab_size=len(TOK), num_classes=3, d_model=16, num_heads=4, num_layers=2, max_len=12, dropout=0.0)
    return AttentionClassifier(ModelConfig(**(cfg | kw))).eval()


def test_default_run_matches_a_plain_forward_pass():
    m = model()
    a = analyze(m, TOK, "the cat sat")
    ids, kpm = TOK.encode_batch(["the cat sat"])
    with torch.inference_mode():
        logits, weights = m(ids, kpm)
    assert np.allclose(a.probs, logits.softmax(-1)[0].numpy(), atol=1e-6)
    assert len(a.weights) == 2 and a.weights[0].shape == (4, 3, 3)
    assert np.allclose(a.weights[1], weights[1][0].numpy())
    assert a.tokens == ["the", "cat", "sat"] and a.pred == int(logits.argmax())


def test_padding_with_and_without_the_pad_mask():
    m = model()
    masked = analyze(m, TOK, "the cat", Masks(pad_to=5))
    assert masked.tokens == ["the", "cat", "<pad>", "<pad>", "<pad>"]
    assert (masked.weights[0][:, :, 2:] == 0).all()
    plain = analyze(m, TOK, "the cat")
    assert np.allclose(masked.probs, plain.probs, atol=1e-5)  # masked padding changes nothing
    open_ = analyze(m, TOK, "the cat", Masks(pad_to=5, pad_mask=False))
    assert (open_.weights[0][:, :, 2:].sum(-1) > 0).all()
    assert not np.allclose(open_.probs, plain.probs, atol=1e-5)


def test_causal_hidden_and_removed_heads():
    m = model()
    causal = analyze(m, TOK, "the cat sat on", Masks(causal=True))
    assert all(np.triu(w[h], 1).max() == 0 for w in causal.weights for h in range(4))
    hidden = analyze(m, TOK, "the cat sat on", Masks(hidden=(1, 3)))
    assert (hidden.weights[0][:, :, [1, 3]] == 0).all()
    removed = analyze(m, TOK, "the cat sat on", Masks(removed_heads=((0, 1), (1, 3))))
    head_mask = torch.ones(2, 4)
    head_mask[0, 1] = head_mask[1, 3] = 0
    ids, kpm = TOK.encode_batch(["the cat sat on"])
    with torch.inference_mode():
        want = m(ids, kpm, head_mask=head_mask)[0].softmax(-1)[0].numpy()
    assert np.allclose(removed.probs, want, atol=1e-6)


def test_as_trained_defaults_follow_the_model_config():
    m = model(causal=True, pad_mask=False)
    a = analyze(m, TOK, "the cat", Masks(pad_to=4))
    assert a.masks.causal is True and a.masks.pad_mask is False
    assert analyze(m, TOK, "the cat", Masks(pad_to=4, causal=False)).masks.causal is False


def test_bad_input():
    m = model()
    with pytest.raises(ValueError, match="no words"):
        analyze(m, TOK, " \u200b ")
    long = analyze(m, TOK, "the cat " * 3000)
    assert len(long.tokens) == 12 and long.truncated > 0 and long.cut_chars == 24000 - 2000
    odd = analyze(m, TOK, "<script>alert(1)</script> 😡 رحلة")
    assert "<" in odd.tokens and all(odd.unknown[i] for i, t in enumerate(odd.tokens) if t not in ("the", "cat"))


def test_exports_carry_tokens_and_weights():
    m = model()
    a = analyze(m, TOK, "the dog sat")
    data = json.loads(export_json(a, ["x", "y", "z"], "tiny", "the dog sat"))
    assert data["tokens"] == ["the", "dog", "sat"] and len(data["layers"]) == 2
    assert np.allclose(data["layers"][1]["heads"], a.weights[1], atol=1e-5)
    rows = list(csv.DictReader(io.StringIO(export_csv(a))))
    assert len(rows) == 2 * 4 * 3 * 3
    r = next(r for r in rows if (r["layer"], r["head"], r["query_pos"], r["key_pos"]) == ("2", "3", "1", "2"))
    assert (
        r["query"] == "dog"
        and r["key"] == "sat"
        and float(r["weight"]) == pytest.approx(a.weights[1][2, 1, 2], abs=1e-5)
    )


def test_panels():
    w = np.random.rand(4, 3, 3).astype(np.float32)
    stack, titles, div = panels(w)
    assert stack.shape == (5, 3, 3) and titles[-1] == "average of heads" and not div
    assert np.allclose(stack[-1], w.mean(0))
    one, t1, _ = panels(w, focus="h3")
    assert np.array_equal(one[0], w[2]) and t1 == ["head 3"]
    diff, _, div = panels(w, base=w * 0.5, focus="avg")
    assert div and np.allclose(diff[0], (w * 0.5).mean(0))
    single, titles1, _ = panels(w[:1])
    assert single.shape == (1, 3, 3) and titles1 == ["head 1"]  # one head: no separate average
    _, marked, _ = panels(w, off=[1])
    assert marked[1] == "head 2 (off: output unused)" and marked[0] == "head 1"


def analysis(probs, tokens=("a", "b", "c", "d"), unknown=(False,) * 4):
    probs = np.asarray(probs, np.float32)
    return Analysis(list(tokens), list(unknown), 0, 0, probs, [], n_pad=sum(t == PAD for t in tokens))


@pytest.mark.parametrize(
    "probs, unknown, said",
    [
        ([0.61, 0.39], (False,) * 4, []),  # a clear enough winner, every word known
        ([0.59, 0.41], (False,) * 4, ["no class reaches 60% (the likeliest has 59%)"]),
        ([0.62, 0.30, 0.08], (False,) * 4, []),  # 32 points apart
        ([0.55, 0.44, 0.01], (False,) * 4, ["no class reaches 60% (the likeliest has 55%)"]),
        (
            [0.3, 0.3, 0.4],
            (True,) * 4,
            ["no class reaches 60% (the likeliest has 40%)", "4 of its 4 words are unknown to the model"],
        ),
        ([0.9, 0.1], (True, False, False, False), ["1 of its 4 words are unknown to the model"]),
        ([0.9, 0.1], (True, False, False, False, False), []),  # 1 of 5 is under a quarter
    ],
)
def test_a_prediction_is_doubted_for_a_weak_or_close_winner_or_many_unknown_words(probs, unknown, said):
    tokens = ["w"] * len(unknown)
    assert doubts(analysis(probs, tokens, unknown)) == said


def test_pad_tokens_do_not_count_as_words_when_doubting():
    a = analysis([0.9, 0.1], ["w", "?", PAD, PAD], [False, True, False, False])
    assert doubts(a) == ["1 of its 2 words are unknown to the model"]

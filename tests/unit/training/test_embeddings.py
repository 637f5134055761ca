"""A head on the frozen encoder: embeddings equal the encoder's pooled output, are computed once, and a head
trained on them learns a task the encoder can read."""

import json
import subprocess
import sys

import pytest
import torch

from attention.core.bert import BertClassifier
from attention.data.batching import pad_batch
from attention.data.pretrained import load_minilm
from attention.training.checkpoints import CheckpointError, load_run, save_run
from attention.training.embeddings import cached_embed, embed, train_head

GOOD = ["a wonderful, lovely day", "great food and kind staff", "I loved it", "what a delight", "superb and fun"]
BAD = ["a terrible, awful day", "rude staff and cold food", "I hated it", "what a disaster", "dreadful and dull"]


def test_sorted_batches_give_each_text_its_own_pooled_output():
    encoder, pieces = load_minilm()
    texts = ["short", "a much longer sentence than the others here", "medium length text"]
    x = embed(encoder, pieces, texts, batch_size=2)  # sorted by length, padded within a batch
    for text, row in zip(texts, x):
        ids = torch.tensor([pieces.encode(text).ids])
        alone = encoder(ids, need_weights=False)[0][-1].mean(dim=1)[0]  # one text, no padding
        torch.testing.assert_close(row, alone, atol=1e-5, rtol=0)


def test_embeddings_are_cached_by_content_and_a_head_learns_on_them(tmp_path, monkeypatch):
    encoder, pieces = load_minilm()
    texts, labels = GOOD + BAD, [1] * len(GOOD) + [0] * len(BAD)
    x = cached_embed(encoder, pieces, texts, tmp_path)
    assert len(list(tmp_path.glob("minilm-*.safetensors"))) == 1
    monkeypatch.setattr("attention.training.embeddings.embed", lambda *a, **k: 1 / 0)  # must not run again
    torch.testing.assert_close(cached_embed(encoder, pieces, texts, tmp_path), x)
    head, history = train_head(x, labels, x, labels, 2, lr=0.1, epochs=300)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    model = BertClassifier(encoder, 2)
    model.head.load_state_dict(head.state_dict())
    ids, pad = pad_batch([torch.tensor(pieces.encode(t).ids) for t in ["such a lovely, kind place", "awful, rude"]])
    with torch.no_grad():
        logits, _ = model(ids, key_padding_mask=pad, need_weights=False)
    assert logits.argmax(-1).tolist() == [1, 0]  # unseen sentences read right: the encoder knows English


def test_a_head_run_saves_only_its_head_and_loads_back_to_the_same_predictions(tmp_path):
    encoder, pieces = load_minilm()
    torch.manual_seed(0)
    model = BertClassifier(encoder, 2).eval()
    path = save_run(tmp_path / "minilm-run", model, pieces, ["bad", "good"], meta=dict(dataset="tiny"))
    assert not (path / "vocab.json").exists() and (path / "model.safetensors").stat().st_size < 10_000
    run = load_run(path)
    assert run.classes == ["bad", "good"] and run.model.encoder is encoder  # one encoder per process
    text = "such a lovely, kind place"
    ids = torch.tensor([pieces.encode(text).ids])
    with torch.no_grad():
        torch.testing.assert_close(run.model(ids)[0], model(ids)[0])
    cmd = [sys.executable, "-m", "attention.predict", "--model", str(path), text]
    row = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    expected = model(ids)[0].softmax(-1)[0].tolist()
    assert list(row["probabilities"]) == ["bad", "good"]
    assert max(abs(a - b) for a, b in zip(row["probabilities"].values(), expected)) < 1e-5
    (path / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_run(path)

"""Run folders: save/load round trip, atomic writes, and clear errors for broken checkpoints."""

import json
import pickle

import pytest
import torch

from attention.app.runstore import list_runs, run_label, runs_table
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.training.checkpoints import CheckpointError, load_run, save_run, write_json


def make_run(path, heads=2, positional="learned"):
    tok = Tokenizer.build(["good film", "bad film", "good good"], min_freq=1)
    torch.manual_seed(0)
    model = AttentionClassifier(
        ModelConfig(vocab_size=len(tok), num_classes=2, d_model=16, num_heads=heads, positional=positional)
    ).eval()
    save_run(path, model, tok, ["neg", "pos"], dict(name="tiny"), dict(epochs=[]), dict(test={"accuracy": 1.0}))
    return model, tok


@pytest.mark.parametrize("positional", ["learned", "sinusoidal", "none"])
def test_round_trip_gives_identical_logits(tmp_path, positional):
    model, tok = make_run(tmp_path / "r", positional=positional)
    run = load_run(tmp_path / "r")
    ids, kpm = tok.encode_batch(["good film", "bad"])
    with torch.inference_mode():
        a, wa = model(ids, kpm)
        b, wb = run.model(ids, kpm)
    assert torch.equal(a, b) and torch.equal(wa[0], wb[0])
    assert run.classes == ["neg", "pos"] and run.name == "tiny" and run.metrics["test"]["accuracy"] == 1.0
    assert not run.model.training


def test_overwrite_keeps_one_whole_run_and_no_temp_files(tmp_path):
    make_run(tmp_path / "r", heads=2)
    make_run(tmp_path / "r", heads=4)
    assert load_run(tmp_path / "r").model.cfg.num_heads == 4
    assert [p.name for p in tmp_path.iterdir()] == ["r"]
    assert list_runs(tmp_path) == [tmp_path / "r"]


def test_truncated_weights_give_a_clear_error(tmp_path):
    make_run(tmp_path / "r")
    f = tmp_path / "r" / "model.safetensors"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="model.safetensors .* corrupt"):
        load_run(tmp_path / "r")


def test_missing_and_garbled_files(tmp_path):
    with pytest.raises(CheckpointError, match="no run folder"):
        load_run(tmp_path / "nothing")
    make_run(tmp_path / "r")
    (tmp_path / "r" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json .* not valid JSON"):
        load_run(tmp_path / "r")
    make_run(tmp_path / "s")
    (tmp_path / "s" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_run(tmp_path / "s")


class Boom:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def test_pickle_with_code_is_refused_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_run(tmp_path / "r")
    (tmp_path / "r" / "model.safetensors").write_bytes(pickle.dumps({"w": Boom()}))
    with pytest.raises(CheckpointError):
        load_run(tmp_path / "r")
    assert not (tmp_path / "PWNED").exists()


def test_weights_of_another_shape_are_refused(tmp_path):
    make_run(tmp_path / "a", heads=2)
    make_run(tmp_path / "b", heads=2)
    (tmp_path / "b" / "config.json").write_text(
        (tmp_path / "b" / "config.json").read_text().replace('"d_model": 16', '"d_model": 32')
    )
    with pytest.raises(CheckpointError, match="does not match"):
        load_run(tmp_path / "b")


def test_runs_are_labelled_so_that_two_alike_runs_can_be_told_apart(tmp_path):
    from kit import save_old_run

    for folder, acc in (("a", 0.8), ("b", 0.8), ("c", 0.75)):  # same name, dataset and heads
        save_old_run(tmp_path, folder)
        cfg = json.loads((tmp_path / folder / "config.json").read_text())
        write_json(tmp_path / folder / "config.json", dict(cfg, name="tiny · 2 heads", created="2026-12-02 07:40:11"))
        write_json(tmp_path / folder / "metrics.json", dict(test=dict(accuracy=acc, macro_f1=acc)))
    labels = {r["folder"]: r["label"] for r in runs_table([tmp_path])}
    assert labels["c"] == "tiny · 2 heads · 75.0% test · 12-02 07:40"
    assert labels["a"] == "tiny · 2 heads · 80.0% test · 12-02 07:40 · a"  # a and b alike but for the folder
    assert len(set(labels.values())) == 3
    row = runs_table([tmp_path])[0] | dict(name="my run", layers=2, shipped=True)
    assert run_label(row) == "my run · tiny · 2 heads · 2 layers · 75.0% test"


@pytest.mark.parametrize(
    "content",
    [
        '{"texts": ["a", "b"], "labels": [0]}',
        '{"texts": "ab", "labels": [0, 1]}',
        '{"texts": [1], "labels": [0]}',
        "[]",
    ],
)
def test_a_malformed_validation_split_is_refused_with_its_file_named(tmp_path, content):
    from kit import save_old_run

    from attention.training.checkpoints import VALIDATION, read_validation

    path = save_old_run(tmp_path)
    assert read_validation(path) is None  # none kept: a built-in dataset's run
    (path / VALIDATION).write_text(content)
    with pytest.raises(CheckpointError, match=VALIDATION):
        read_validation(path)


def _save_many(runs_dir, who, n=4):
    """Save n runs named after `who` under one base name, as a worker process ending its trainings would."""
    from attention.app.runstore import save_new_run

    torch.manual_seed(0)
    tok = Tokenizer.build(["a b c"], min_freq=1)
    model = AttentionClassifier(ModelConfig(len(tok), 2, d_model=8, num_heads=2))
    meta = lambda i: dict(name=f"{who}-{i}")
    return [save_new_run(runs_dir, "tiny-2h", model, tok, ["n", "p"], meta(i), {}, {}).name for i in range(n)]


def test_two_processes_saving_at_once_never_take_the_same_folder(tmp_path):
    """Two workers ending trainings in the same minute once both found a name free, and one run replaced the other."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        folders = sum(pool.map(_save_many, [tmp_path] * 2, ["a", "b"]), [])
    assert len(set(folders)) == 8
    names = sorted(json.loads((tmp_path / f / "config.json").read_text())["name"] for f in folders)
    assert names == [f"{w}-{i}" for w in "ab" for i in range(4)]  # every run whole, none replaced

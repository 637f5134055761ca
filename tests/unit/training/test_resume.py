"""Resuming fit from the state it checkpoints after each epoch: bit-identical weights, early stopping, broken files."""

import json
import pickle

import pytest
import torch
from kit import MODEL, tiny

from attention.training.checkpoints import CheckpointError
from attention.training.fit_state import FIT_STATE, load_fit_state, save_fit_state
from attention.training.loop import TrainConfig, build_model, fit, prepare

CFG = TrainConfig(epochs=4, batch_size=16, min_freq=1, patience=100)
TIMING = ("seconds", "samples_per_s")


def fresh(cfg=CFG, **model_kw):
    """Data and a new model of one spec, as a new worker would build them (default dropout 0.1)."""
    data = prepare(tiny(200), cfg)
    return build_model(data, dict(MODEL, **model_kw), cfg), data


def straight(cfg=CFG):
    """An uninterrupted training, with every state it checkpointed."""
    model, data = fresh(cfg)
    states = []
    history = fit(model, data, cfg, on_checkpoint=states.append)
    return model, history, states


def resumed(folder, cfg=CFG):
    """A fresh model resumed from the state saved in folder, trained to the end of cfg."""
    model, data = fresh(cfg)
    state = load_fit_state(folder, model)
    assert state is not None
    return model, fit(model, data, cfg, resume=state)


def assert_same_training(a, ha, b, hb):
    assert a.state_dict().keys() == b.state_dict().keys()
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    untimed = lambda h: [{k: v for k, v in r.items() if k not in TIMING} for r in h["epochs"]]
    assert untimed(ha) == untimed(hb)
    assert (ha["steps"], ha["best_epoch"], ha["stopped"]) == (hb["steps"], hb["best_epoch"], hb["stopped"])


def test_interrupted_after_epoch_2_and_resumed_from_disk_ends_bit_identical(tmp_path):
    model, history, states = straight()
    assert [s.epoch for s in states] == [1, 2, 3, 4]

    # The same training, with a worker that saves each checkpoint and is lost as epoch 3 starts.
    lost, data = fresh()
    assert lost.cfg.dropout > 0  # so the generator's state matters
    saved = []
    on_checkpoint = lambda s: (save_fit_state(tmp_path, s), saved.append(s.epoch))
    h = fit(lost, data, CFG, on_checkpoint=on_checkpoint, should_stop=lambda: saved == [1, 2])
    assert [r["epoch"] for r in h["epochs"]] == [1, 2] and h["stopped"] == "user"
    del lost

    again, h2 = resumed(tmp_path)
    assert_same_training(model, history, again, h2)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".safetensors"]  # older tensors removed


def test_the_generator_state_is_what_makes_it_identical(tmp_path):
    model, history, states = straight()
    state = states[1]
    state.generator = torch.Generator().manual_seed(CFG.seed + 1).get_state()
    other, data = fresh()
    fit(other, data, CFG, resume=state)
    assert not torch.equal(model.head.weight, other.head.weight)


def test_one_state_in_memory_resumes_twice_the_same():
    model, history, states = straight()
    for _ in range(2):
        again, data = fresh()
        h = fit(again, data, CFG, resume=states[1])
        assert_same_training(model, history, again, h)


@pytest.mark.parametrize("patience, epochs, stopped", [(1, 6, "early_stopping"), (2, 8, "completed")])
def test_resuming_keeps_the_best_epoch_and_early_stopping(tmp_path, patience, epochs, stopped):
    cfg = TrainConfig(epochs=epochs, batch_size=16, lr=0.05, min_freq=1, patience=patience)
    model, history, states = straight(cfg)
    assert history["stopped"] == stopped
    worse = [s for s in states if s.bad_epochs > 0]  # states whose best weights are an earlier epoch's
    assert worse and (stopped == "completed" or worse[-1] is states[-1])
    for state in worse:
        save_fit_state(tmp_path, state)
        again, h = resumed(tmp_path, cfg)
        assert_same_training(model, history, again, h)
        assert h["best_epoch"] == history["best_epoch"]


@pytest.mark.parametrize(
    "damage",
    [
        "truncate tensors",
        "flip a byte",
        "delete tensors",
        "garbage json",
        "json without fields",
        "another model",
    ],
)
def test_broken_state_files_give_a_clear_error(tmp_path, damage):
    _, _, states = straight(TrainConfig(epochs=1, batch_size=16, min_freq=1))
    save_fit_state(tmp_path, states[0])
    tensors = next(tmp_path.glob("*.safetensors"))
    blob = tensors.read_bytes()
    if damage == "truncate tensors":
        tensors.write_bytes(blob[: len(blob) // 2])
    elif damage == "flip a byte":
        tensors.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    elif damage == "delete tensors":
        tensors.unlink()
    elif damage == "garbage json":
        (tmp_path / FIT_STATE).write_text('{"epoch": 1, "tens')
    elif damage == "json without fields":
        meta = json.loads((tmp_path / FIT_STATE).read_text())
        del meta["history"], meta["epoch"]
        (tmp_path / FIT_STATE).write_text(json.dumps(meta))
    model = fresh(d_model=32)[0] if damage == "another model" else fresh()[0]
    with pytest.raises(CheckpointError, match=FIT_STATE.split(".")[0]):
        load_fit_state(tmp_path, model)


def test_no_state_gives_none(tmp_path):
    model, _ = fresh()
    assert load_fit_state(tmp_path / "never-made", model) is None
    assert load_fit_state(tmp_path, model) is None
    (tmp_path / "fit_state.0123.safetensors").write_bytes(b"left by a crash before the json was written")
    assert load_fit_state(tmp_path, model) is None


def test_state_files_are_safetensors_and_json_never_pickle(tmp_path, monkeypatch):
    _, _, states = straight(TrainConfig(epochs=2, batch_size=16, min_freq=1))

    def forbidden(*a, **k):
        raise AssertionError("pickle used")

    for name in ("dump", "dumps", "load", "loads", "Pickler", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "save", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    save_fit_state(tmp_path, states[-1])
    model, _ = fresh()
    state = load_fit_state(tmp_path, model)
    assert state.epoch == 2 and state.generator.dtype == torch.uint8
    assert set(state.optimizer["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}

    meta = json.loads((tmp_path / FIT_STATE).read_text())
    blob = (tmp_path / meta["tensors"]).read_bytes()
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])  # safetensors: length, JSON header, data
    assert {"generator", "model.head.weight", "optimizer.0.exp_avg", "best.head.weight"} <= set(header)

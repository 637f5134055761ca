"""The training loop: overfitting, determinism, events, stopping, divergence, and the CLI."""

import copy
import math

import pytest
import torch

from attention.core.model import AttentionClassifier, ModelConfig
from attention.data.types import Split, TextDataset
from attention.training.checkpoints import load_run
from attention.training.loop import TrainConfig, TrainingDiverged, build_model, evaluate, fit, main, prepare, train_run

TEXTS = [
    "good fun film",
    "great acting",
    "loved it",
    "bad plot",
    "awful acting",
    "hated it",
    "boring film",
    "fun and great",
]
LABELS = [1, 1, 1, 0, 0, 0, 0, 1]


def tiny_dataset(copies=1):
    s = Split(TEXTS * copies, LABELS * copies)
    return TextDataset("tiny", ["neg", "pos"], s, Split(TEXTS, LABELS), Split(TEXTS, LABELS), "tiny")


TINY = TrainConfig(epochs=60, batch_size=4, lr=1e-2, patience=100, min_freq=1)


def tiny(cfg=TINY, heads=2, **kw):
    data = prepare(tiny_dataset(), cfg)
    torch.manual_seed(cfg.seed)
    model = AttentionClassifier(
        ModelConfig(vocab_size=len(data.tokenizer), num_classes=2, d_model=16, num_heads=heads, dropout=0.0, **kw)
    )
    return model, data, cfg


@pytest.mark.parametrize(
    "kw", [{}, dict(causal=True, positional="learned"), dict(pad_mask=False, num_layers=2, d_ff=32)]
)
def test_overfits_a_tiny_dataset_to_100_percent(kw):
    model, data, cfg = tiny(**kw)
    history = fit(model, data, cfg)
    _, acc, _ = evaluate(model, data.train)
    assert acc == 1.0
    assert history["epochs"][-1]["train_loss"] < history["epochs"][0]["train_loss"]


def test_same_seed_same_weights_and_history():
    results = []
    for _ in range(2):
        model, data, cfg = tiny(TrainConfig(epochs=3, batch_size=4, min_freq=1))
        h = fit(model, data, cfg)
        results.append((h["steps"], model.head.weight.clone()))
    assert results[0][0] == results[1][0]
    assert torch.equal(results[0][1], results[1][1])


def test_events_and_user_stop_keep_best_model():
    model, data, cfg = tiny(TrainConfig(epochs=50, batch_size=2, min_freq=1, patience=100))
    steps, epochs = [], []
    history = fit(
        model,
        data,
        cfg,
        on_step=lambda s, loss: steps.append(s),
        on_epoch=epochs.append,
        should_stop=lambda: len(steps) >= 9,
    )
    assert history["stopped"] == "user"
    assert steps == list(range(1, 10))  # 4 steps an epoch: two full epochs, then a partial third
    assert [e["epoch"] for e in epochs] == [1, 2, 3] and epochs[-1]["partial"]
    assert history["best_epoch"] in (1, 2, 3) and not model.training


def test_early_stopping_on_validation_loss():
    model, data, cfg = tiny(TrainConfig(epochs=200, batch_size=4, lr=3e-2, patience=2, min_freq=1))
    history = fit(model, data, cfg)
    assert history["stopped"] == "early_stopping"
    losses = [e["val_loss"] for e in history["epochs"]]
    best = history["best_epoch"]
    assert losses[best - 1] == min(losses) and len(losses) == best + 2


@pytest.mark.parametrize("epochs, stopped", [(2, "completed"), (3, "early_stopping")])
def test_running_out_of_patience_at_the_last_epoch_is_finishing_not_stopping_early(epochs, stopped):
    model, data, cfg = tiny(TrainConfig(epochs=epochs, batch_size=4, lr=0.0, weight_decay=0.0, patience=1, min_freq=1))
    history = fit(model, data, cfg)  # lr 0: epoch 2 is no better than epoch 1, so patience 1 runs out there
    assert history["stopped"] == stopped and len(history["epochs"]) == 2


def test_nan_loss_stops_with_a_clear_error():
    model, data, cfg = tiny(TrainConfig(epochs=5, batch_size=4, lr=1e9, grad_clip=1e12, min_freq=1))
    with torch.no_grad():
        model.head.weight.fill_(math.inf)
    with pytest.raises(TrainingDiverged, match="loss became nan.*learning rate 1e\\+09"):
        fit(model, data, cfg)


def test_train_run_saves_a_loadable_run(tmp_path):
    cfg = TrainConfig(epochs=2, batch_size=4, min_freq=1)
    model, data, history, metrics = train_run(
        "tiny", dict(d_model=16, num_heads=4), cfg, tmp_path / "run", dataset=tiny_dataset()
    )
    run = load_run(tmp_path / "run")
    assert run.meta["dataset"] == "tiny" and run.history["best_epoch"] == history["best_epoch"]
    assert set(metrics) == {"val", "test"} and len(metrics["test"]["confusion"]) == 2
    ids, kpm = run.tokenizer.encode_batch(TEXTS)
    with torch.inference_mode():
        assert torch.equal(run.model(ids, kpm)[0], model(ids, kpm)[0])


def test_cli_trains_the_synthetic_task(tmp_path, capsys):
    main(["--dataset", "synthetic", "--heads", "2", "--d-model", "16", "--epochs", "1", "--out", str(tmp_path / "cli")])
    assert "test accuracy" in capsys.readouterr().out
    assert load_run(tmp_path / "cli").model.cfg.num_heads == 2


def test_a_training_draws_only_from_its_own_generator():
    """Another training in the same process draws from torch's global generator; this one must not notice."""
    weights = []
    for disturb in (False, True):
        cfg = TrainConfig(epochs=3, batch_size=2, min_freq=1, patience=100)
        data = prepare(tiny_dataset(), cfg)
        if disturb:
            torch.rand(7)  # before building: the global generator is elsewhere
        model = build_model(data, dict(d_model=16, num_heads=2, dropout=0.3), cfg)
        fit(model, data, cfg, on_step=(lambda s, loss: torch.rand(3)) if disturb else None)  # and moves every step
        weights.append({k: v.clone() for k, v in model.state_dict().items()})
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_dropout_is_on_in_training_so_the_generator_test_means_something():
    cfg = TrainConfig(epochs=1, min_freq=1)
    model = build_model(prepare(tiny_dataset(), cfg), dict(d_model=16, num_heads=2, dropout=0.3), cfg).train()
    ids, kpm = model_inputs()
    model.use_generator(torch.Generator().manual_seed(0))
    a, b = model(ids, kpm, need_weights=False)[0], model(ids, kpm, need_weights=False)[0]
    assert not torch.equal(a, b)  # two dropout masks
    model.use_generator(torch.Generator().manual_seed(0))
    assert torch.equal(a, model(ids, kpm, need_weights=False)[0])  # the same generator state, the same mask


def model_inputs():
    tok = prepare(tiny_dataset(), TrainConfig(min_freq=1)).tokenizer
    return tok.encode_batch(TEXTS)


def test_fit_ends_with_the_best_epochs_weights_not_the_last():
    """Validation labels are the training labels flipped: the better the model learns, the worse validation gets."""
    flipped = Split(TEXTS, [1 - y for y in LABELS])
    dataset = TextDataset("tiny", ["neg", "pos"], Split(TEXTS, LABELS), flipped, flipped, "tiny")
    cfg = TrainConfig(epochs=8, batch_size=4, lr=1e-2, patience=100, min_freq=1)
    data = prepare(dataset, cfg)
    torch.manual_seed(0)
    model = AttentionClassifier(ModelConfig(vocab_size=len(data.tokenizer), num_classes=2, d_model=16, num_heads=2))
    after_epoch = []
    history = fit(model, data, cfg, on_epoch=lambda r: after_epoch.append(copy.deepcopy(model.state_dict())))
    best = history["best_epoch"]
    assert best < len(history["epochs"])  # validation got worse after the best epoch
    final = model.state_dict()
    assert all(torch.equal(final[k], after_epoch[best - 1][k]) for k in final)
    assert not all(torch.equal(final[k], after_epoch[-1][k]) for k in final)
    val_loss, _, _ = evaluate(model, data.val)
    assert val_loss == pytest.approx(history["epochs"][best - 1]["val_loss"], rel=1e-5)

"""A classifier on frozen MiniLM trained as a worker trains it: the same events, a run like any other, and the
upload's embeddings kept with its owner's job, not in the shared cache."""

import dataclasses

import numpy as np
from kit import spec, train_here

from attention.analysis.sentence import analyze
from attention.app.head_job import MINILM
from attention.training.checkpoints import load_run


def head_spec(**train):
    return dataclasses.replace(spec(200, epochs=40, lr=3e-2, patience=100, **train), model={"encoder": MINILM})


def test_a_head_job_logs_every_epoch_and_saves_a_run_that_reads_unseen_sentences(runs_dir):
    p = train_here(runs_dir, head_spec())
    assert p.state == "done", p.message
    assert len(p.epochs) == 40 and len(p.steps) == 40 and p.steps_per_epoch == 1
    assert p.steps[-1] < p.steps[0] and p.epochs[-1]["val_acc"] >= 0.9
    assert p.test_report is not None and len(p.reports) == 40
    run = load_run(p.run_path)
    assert run.meta["encoder"] == MINILM and run.model.cfg.num_layers == 6 and run.meta["train"]["epochs"] == 40
    assert run.history["best_epoch"] == p.best_epoch and (run.path / "validation.json").exists()
    good = analyze(run.model, run.tokenizer, "great nice love good")
    assert run.classes[good.pred] == "pos"
    assert not (runs_dir / ".cache").exists() or not list((runs_dir / ".cache").glob("minilm-*"))


def test_stop_ends_a_head_job_with_its_best_epoch_saved(runs_dir, monkeypatch):
    from attention.app import head_job

    calls = []

    def once_then_stop(job_dir, record, preds):
        calls.append(record["epoch"])
        if record["epoch"] == 5:
            (job_dir / "stop").touch()
        return real(job_dir, record, preds)

    real = head_job._log_epoch
    monkeypatch.setattr(head_job, "_log_epoch", once_then_stop)
    p = train_here(runs_dir, head_spec())
    assert p.state == "stopped" and calls == [1, 2, 3, 4, 5] and len(p.epochs) == 5
    assert "Stopped by you" in p.message and np.isfinite(p.epochs[-1]["val_loss"])

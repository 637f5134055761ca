"""A training as a worker runs it (attention/app/trainer.py), read back through its event log: progress, stop,
failures, run folders; and the form's checks. The engine that runs it is tested in tests/engine/."""

import json
import math
import threading
import time
import zipfile
from io import BytesIO

import pytest
import torch
from kit import MODEL, job_dir, spec, tiny, train_here

from attention.app import progress as ev
from attention.app import runlog, runstore, trainer
from attention.app.jobs import JobSpec, check
from attention.training import checkpoints, prepared
from attention.training.checkpoints import MODELS_DIR, load_run
from attention.training.loop import TrainConfig

torch.set_num_threads(1)  # tiny models; leave the second core to whoever else is working


def in_thread(runs_dir, s):
    """(job folder, thread) of a training running in this process, as on a worker."""
    path = job_dir(runs_dir, s)
    thread = threading.Thread(target=trainer.train, args=(path,), daemon=True)
    thread.start()
    return path, thread


def wait_for(path, cond, timeout=30):
    follower, deadline = runlog.Follower(str(path)), time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = follower.update()
        if cond(p):
            return p
        time.sleep(0.02)
    raise AssertionError(f"timed out; state {p.state}: {p.message}")


def test_a_training_reports_progress_through_its_log_and_saves_a_loadable_run(tmp_path):
    path, thread = in_thread(tmp_path, spec(epochs=4))
    follower, seen = runlog.Follower(str(path)), set()
    while thread.is_alive():
        p = follower.update()
        seen.add((p.state, len(p.steps), len(p.epochs)))
        time.sleep(0.005)
    snap = follower.update()
    assert snap.state == "done", snap.message
    assert len(snap.epochs) == 4 and len(snap.reports) == 4
    assert len(snap.steps) == 4 * snap.steps_per_epoch == len(snap.step_times)
    assert len({steps for _, steps, _ in seen}) > 2  # the steps grew while we watched
    assert len(snap.probe_weights) == 5  # before training, then after each epoch
    tokens, weights = snap.probe_tokens[0], snap.probe_weights[-1][0][0]
    assert weights.shape == (4, len(tokens), len(tokens)) and weights.dtype.name == "float32"
    assert snap.fraction == 1.0 and snap.test_report is not None
    run = load_run(tmp_path / snap.run_name)
    assert snap.run_name.startswith("tiny-4h-")
    assert run.meta["name"] == "tiny · 4 heads" and run.model.cfg.num_heads == 4
    assert set(run.metrics) == {"val", "test", "misclassified"}
    assert run.metrics["val"]["confusion"] == snap.reports[snap.best_epoch - 1].confusion.tolist()
    assert run.metrics["test"]["accuracy"] == snap.test_report.accuracy
    assert len(run.history["probes"]["epochs"]) == 5 and run.history["stopped"] == "completed"


def test_the_log_is_read_from_where_it_stopped_and_a_half_written_line_waits(tmp_path):
    runlog.append(tmp_path, "begin", dataset="tiny", max_epochs=3, batch_size=16)
    follower = runlog.Follower(str(tmp_path))
    assert follower.update().state == "loading"
    with open(tmp_path / runlog.EVENTS, "a") as f:
        f.write('{"kind":"steps","t":1,"losses":[0.5],"ti')  # a worker mid-write
    assert follower.update().steps == []
    with open(tmp_path / runlog.EVENTS, "a") as f:
        f.write('mes":[1.0]}\n')
    assert follower.update().steps == [0.5]
    runlog.append(tmp_path, "begin", dataset="tiny", max_epochs=3, batch_size=16)  # a lost worker's training again
    p = follower.update()
    assert p.steps == [0.5] and p.attempt == 2 and p.state == "loading"  # kept until it says how it goes on
    ready = dict(classes=["a", "b"], n_train=8, steps_per_epoch=1, val_texts=[], val_labels=[], probe_texts=[])
    runlog.append(tmp_path, "ready", dataset="tiny", probe_tokens=[], probes=[], **ready)  # from the start
    p = follower.update()
    assert p.steps == [] and p.attempt == 2 and p.state == "training" and p.classes == ["a", "b"]


def test_a_finished_training_lets_go_of_its_validation_texts_and_keeps_the_mistakes_it_saved(tmp_path):
    path, thread = in_thread(tmp_path, spec(epochs=2))
    live = wait_for(path, lambda p: len(p.epochs) == 1)
    assert len(live.val_texts) == len(live.val_labels) == 20 and len(live.val_preds) == 1  # the page needs them now
    thread.join(60)
    snap = runlog.Follower(str(path)).update()
    assert snap.state == "done" and snap.val_texts == snap.val_labels == snap.val_preds == []
    saved = load_run(tmp_path / snap.run_name).metrics["misclassified"]
    assert snap.mistakes == saved and ev.view_of_job(snap).mistakes == saved


def test_stop_ends_training_within_a_second_and_keeps_the_best_model(tmp_path):
    path, thread = in_thread(tmp_path, spec(n=300, epochs=200))
    wait_for(path, lambda p: len(p.epochs) >= 2)
    t0 = time.monotonic()
    (path / runlog.STOP).touch()  # what jobs.Job.stop() leaves for the worker
    thread.join(1.0)
    assert not thread.is_alive() and time.monotonic() - t0 < 1.0, "still training 1 s after stop"
    snap = runlog.Follower(str(path)).update()
    assert snap.state == "stopped" and "Stopped by you" in snap.message
    run = load_run(tmp_path / snap.run_name)
    assert run.history["stopped"] == "user" and run.history["best_epoch"] == snap.best_epoch


def test_time_left_and_throughput_while_training(tmp_path):
    path, thread = in_thread(tmp_path, spec(n=300, epochs=200))
    snap = wait_for(path, lambda p: len(p.epochs) >= 2)
    (path / runlog.STOP).touch()
    thread.join(5)
    assert snap.seconds_left() > 0 and snap.samples_per_s() > 0 and 0 < snap.fraction < 1


def test_stopped_before_it_started_trains_and_saves_nothing(tmp_path):
    path = job_dir(tmp_path, spec())
    (path / runlog.STOP).touch()  # a worker takes a training whose visitor cancelled it while it waited
    trainer.train(path)
    assert not (path / runlog.EVENTS).exists() and runstore.list_runs(tmp_path) == []


def test_nan_loss_fails_with_an_explanation_and_saves_nothing(tmp_path, monkeypatch):
    real_fit = trainer.fit

    def fit_with_inf_weights(model, *args, **kw):
        with torch.no_grad():
            model.head.weight.fill_(math.inf)
        return real_fit(model, *args, **kw)

    monkeypatch.setattr(trainer, "fit", fit_with_inf_weights)
    snap = train_here(tmp_path, spec())
    assert snap.state == "failed"
    assert "loss became nan" in snap.message and "Try a learning rate of 0.0002." in snap.message
    assert "Nothing was saved" in snap.message and runstore.list_runs(tmp_path) == []


def test_a_huge_learning_rate_is_stopped_as_diverged(tmp_path):
    snap = train_here(tmp_path, spec(n=300, epochs=50, lr=10.0))
    assert snap.state == "failed", snap.message
    assert "diverged" in snap.message and "Try a learning rate of 0.01." in snap.message  # not 1: "very large"
    assert len(snap.epochs) < 50 and runstore.list_runs(tmp_path) == []


def test_a_dataset_that_fails_to_load_is_reported(tmp_path, monkeypatch):
    def broken(*a, **k):
        raise trainer.DataError("The synthetic dataset is not available in this version.")

    monkeypatch.setattr(prepared, "load_dataset", broken)
    snap = train_here(tmp_path, JobSpec("synthetic", MODEL, TrainConfig(epochs=1)))
    assert snap.state == "failed" and "not available" in snap.message


def test_an_unexpected_error_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(trainer, "build_model", lambda *a: 1 / 0)
    snap = train_here(tmp_path, spec())
    assert snap.state == "failed" and "ZeroDivisionError" in snap.message


def test_an_uploads_rows_travel_in_the_job_folder(tmp_path):
    s = spec(classes=("cat", "dog", "fish"))
    read = trainer.read_spec(job_dir(tmp_path, s))
    assert read["upload"] == s.upload and read["train"] == s.train and read["model"] == s.model


def test_check_explains_bad_combinations():
    errors, warnings = check(JobSpec("tweets", dict(d_model=64, num_heads=3)))
    assert "not divisible by 3 heads" in errors[0] and "Try d_model 63 or 66, or 2 or 4 heads" in errors[0]
    assert check(JobSpec("tweets", dict(d_model=64, num_heads=4))) == ([], [])
    _, warnings = check(JobSpec("tweets", MODEL, TrainConfig(lr=10.0)))
    assert "NaN" in warnings[0]


@pytest.mark.parametrize(
    "field, model, train, label",
    [
        ("heads", dict(num_heads=17), {}, "Heads must be a whole number from 1 to 16; it is 17."),
        ("heads", dict(num_heads=0), {}, "Heads must be a whole number from 1 to 16; it is 0."),
        ("layers", dict(num_layers=5), {}, "Layers must be a whole number from 1 to 4; it is 5."),
        ("d_model", dict(d_model=512), {}, "d_model must be a whole number from 8 to 256; it is 512."),
        ("epochs", {}, dict(epochs=501), "Epochs (at most) must be a whole number from 1 to 500; it is 501."),
        ("seed", {}, dict(seed=-1), "Seed must be a whole number from 0 to 2,147,483,647; it is -1."),
    ],
)
def test_check_names_a_field_outside_its_range(field, model, train, label):
    errors, _ = check(JobSpec("tweets", dict(d_model=64, num_heads=4, num_layers=1) | model, TrainConfig(**train)))
    assert len(errors) == 1 and errors[0].startswith(label)


def test_check_accepts_the_ends_of_every_range():
    for model, train in [
        (dict(d_model=8, num_heads=1, num_layers=1), dict(epochs=1, patience=1, seed=0)),
        (dict(d_model=256, num_heads=16, num_layers=4), dict(epochs=500, patience=500)),
    ]:
        assert check(JobSpec("tweets", model, TrainConfig(**train))) == ([], [])


def test_check_warns_when_an_uploads_validation_or_test_split_is_tiny():
    _, warnings = check(JobSpec("tiny", MODEL, TrainConfig(), tiny(20)))  # 2 validation and 2 test texts
    assert "the validation split has 2 texts and the test split has 2 texts" in warnings[0]
    assert check(JobSpec("tiny", MODEL, TrainConfig(), tiny(200))) == ([], [])  # 20 each: enough


# --- run folders --------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    return tmp_path / train_here(tmp_path, spec(epochs=1)).run_name


def test_run_folders_are_unique_and_never_overwritten(saved, monkeypatch):
    before = (saved / "model.safetensors").read_bytes()
    monkeypatch.setattr(runstore.time, "strftime", lambda fmt, *a: saved.name.removeprefix("tiny-4h-"))
    run = load_run(saved)
    second = runstore.save_new_run(saved.parent, "tiny-4h", run.model, run.tokenizer, run.classes, {}, {}, {})
    assert second.name == saved.name + "-2"
    assert (saved / "model.safetensors").read_bytes() == before


def test_rename_changes_the_display_name_not_the_folder(saved):
    runstore.rename_run(saved, "  my   first model ", runs_dir=saved.parent)
    assert json.loads((saved / "config.json").read_text())["name"] == "my first model"
    assert load_run(saved).name == "my first model"
    with pytest.raises(ValueError):
        runstore.rename_run(saved, "   ", runs_dir=saved.parent)


def test_delete_removes_a_run_but_refuses_shipped_models(saved, tmp_path):
    shipped = next(p for p in MODELS_DIR.iterdir() if (p / "config.json").exists())
    with pytest.raises(PermissionError, match="shipped"):
        runstore.delete_run(shipped, runs_dir=tmp_path)
    with pytest.raises(PermissionError, match="shipped"):
        runstore.rename_run(shipped, "x", runs_dir=tmp_path)
    with pytest.raises(PermissionError, match="not a run folder"):
        runstore.delete_run(tmp_path / "nope", runs_dir=tmp_path)
    runstore.delete_run(saved, runs_dir=tmp_path)
    assert not saved.exists() and runstore.list_runs(tmp_path) == []
    assert (shipped / "model.safetensors").exists()


def test_zip_holds_every_file_of_the_run_but_the_uploads_own_texts(saved):
    names = zipfile.ZipFile(BytesIO(runstore.zip_run(saved))).namelist()
    assert (saved / checkpoints.VALIDATION).exists()  # trained on an upload: its validation split is kept, privately
    kept = [f"{saved.name}/{f.name}" for f in saved.iterdir() if f.name != checkpoints.VALIDATION]
    assert sorted(names) == sorted(kept)


def test_runs_table_lists_shipped_and_own_runs_and_flags_broken_ones(saved, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    rows = {r["folder"]: r for r in runstore.runs_table((MODELS_DIR, tmp_path))}
    assert rows[saved.name]["heads"] == 4 and not rows[saved.name]["shipped"]
    assert rows[saved.name]["test_acc"] is not None
    assert "not valid JSON" in rows["broken"]["problem"]
    assert any(r["shipped"] for r in rows.values())
    assert ".jobs" not in rows  # job folders are never listed as runs


class Killed(BaseException):
    """A worker process dying: nothing in the trainer catches it."""


def test_a_training_whose_worker_was_lost_goes_on_from_its_last_epoch_and_ends_as_if_never_lost(tmp_path, monkeypatch):
    alone = load_run(tmp_path / train_here(tmp_path, spec(n=300, epochs=5)).run_name).model.state_dict()
    real_save = trainer.save_fit_state

    def save_then_die_after_epoch_3(folder, state):
        real_save(folder, state)
        if state.epoch == 3:
            runlog.append(folder, "steps", losses=[9.9], times=[0.0])  # a step of epoch 4, then the worker dies
            raise Killed

    monkeypatch.setattr(trainer, "save_fit_state", save_then_die_after_epoch_3)
    path = job_dir(tmp_path / "lost", spec(n=300, epochs=5))
    with pytest.raises(Killed):
        trainer.train(path)
    monkeypatch.undo()
    assert runstore.list_runs(tmp_path / "lost") == []
    trainer.train(path)  # the engine gives the training to another worker
    snap = runlog.Follower(str(path)).update()
    assert snap.state == "done" and snap.attempt == 2 and snap.resumed_from == 3
    assert [e["epoch"] for e in snap.epochs] == [1, 2, 3, 4, 5] and len(snap.steps) == 5 * snap.steps_per_epoch
    assert 9.9 not in snap.steps and len(snap.probe_weights) == 6
    run = load_run(snap.run_path)
    assert all(torch.equal(alone[k], v) for k, v in run.model.state_dict().items())
    assert len(run.history["probes"]["epochs"]) == 6 and not list(path.glob("fit_state*"))

"""The background training job, driven directly on tiny datasets: progress, stop, queue, failures, run folders."""

import json
import math
import threading
import time
import zipfile
from io import BytesIO

import pytest
import torch
from kit import MODEL, spec, tiny

from attention.app import jobs, runstore
from attention.app import progress as ev
from attention.app.jobs import JobBox, JobSpec, Slots, TrainJob, check
from attention.training import checkpoints
from attention.training.checkpoints import MODELS_DIR, load_run
from attention.training.loop import TrainConfig

torch.set_num_threads(1)  # tiny models; leave the second core to whoever else is working


def wait_for(job, cond, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = job.snapshot()
        if cond(snap):
            return snap
        time.sleep(0.02)
    raise AssertionError(f"timed out; state {job.snapshot().state}: {job.snapshot().message}")


def test_a_job_reports_progress_and_saves_a_loadable_run(tmp_path):
    job = TrainJob(spec(epochs=4), runs_dir=tmp_path, slots=Slots(1)).start()
    seen = set()
    while job.alive:
        s = job.snapshot()
        seen.add((s.state, len(s.steps), len(s.epochs)))
        time.sleep(0.005)
    snap = job.snapshot()
    assert snap.state == "done", snap.message
    assert len(snap.epochs) == 4 and len(snap.reports) == 4
    assert len(snap.steps) == 4 * snap.steps_per_epoch
    assert len({steps for _, steps, _ in seen}) > 2  # the steps grew while we watched
    assert len(snap.probe_weights) == 5  # before training, then after each epoch
    tokens, weights = snap.probe_tokens[0], snap.probe_weights[-1][0][0]
    assert weights.shape == (4, len(tokens), len(tokens))
    assert snap.fraction == 1.0 and snap.test_report is not None
    run = load_run(tmp_path / snap.run_name)
    assert snap.run_name.startswith("tiny-4h-")
    assert run.meta["name"] == "tiny · 4 heads" and run.model.cfg.num_heads == 4
    assert set(run.metrics) == {"val", "test", "misclassified"}
    assert run.metrics["val"]["confusion"] == snap.reports[snap.best_epoch - 1].confusion.tolist()
    assert len(run.history["probes"]["epochs"]) == 5 and run.history["stopped"] == "completed"


def test_a_finished_job_lets_go_of_its_validation_texts_and_keeps_the_mistakes_it_saved(tmp_path):
    job = TrainJob(spec(epochs=2), runs_dir=tmp_path, slots=Slots(1)).start()
    live = wait_for(job, lambda s: len(s.epochs) == 1)
    assert len(live.val_texts) == len(live.val_labels) == 20 and len(live.val_preds) == 1  # the page needs them now
    assert job.join(60)
    snap = job.snapshot()
    assert snap.state == "done" and snap.val_texts == snap.val_labels == snap.val_preds == []
    saved = load_run(tmp_path / snap.run_name).metrics["misclassified"]
    assert snap.mistakes == saved and ev.view_of_job(snap).mistakes == saved


def test_stop_ends_the_job_within_a_second_and_keeps_the_best_model(tmp_path):
    job = TrainJob(spec(n=300, epochs=200), runs_dir=tmp_path, slots=Slots(1)).start()
    wait_for(job, lambda s: len(s.epochs) >= 2)
    t0 = time.monotonic()
    job.stop()
    assert job.join(1.0), f"still {job.snapshot().state} 1 s after stop"
    assert time.monotonic() - t0 < 1.0
    snap = job.snapshot()
    assert snap.state == "stopped" and "Stopped by you" in snap.message
    run = load_run(tmp_path / snap.run_name)
    assert run.history["stopped"] == "user" and run.history["best_epoch"] == snap.best_epoch


def test_time_left_and_throughput_while_training(tmp_path):
    job = TrainJob(spec(n=300, epochs=200), runs_dir=tmp_path, slots=Slots(1)).start()
    snap = wait_for(job, lambda s: len(s.epochs) >= 2)
    job.stop()
    job.join(5)
    assert snap.seconds_left() > 0 and snap.samples_per_s() > 0 and 0 < snap.fraction < 1


def test_stopped_before_training_saves_nothing(tmp_path):
    job = TrainJob(spec(), runs_dir=tmp_path, slots=Slots(1))
    job.stop()
    job.start().join(10)
    snap = job.snapshot()
    assert snap.state == "stopped" and "nothing was saved" in snap.message
    assert list(tmp_path.iterdir()) == []


def test_nan_loss_fails_with_an_explanation_and_saves_nothing(tmp_path, monkeypatch):
    real_fit = jobs.fit

    def fit_with_inf_weights(model, *args, **kw):
        with torch.no_grad():
            model.head.weight.fill_(math.inf)
        return real_fit(model, *args, **kw)

    monkeypatch.setattr(jobs, "fit", fit_with_inf_weights)
    job = TrainJob(spec(), runs_dir=tmp_path, slots=Slots(1)).start()
    job.join(30)
    snap = job.snapshot()
    assert snap.state == "failed"
    assert "loss became nan" in snap.message and "Try a learning rate of 0.0002." in snap.message
    assert "Nothing was saved" in snap.message and list(tmp_path.iterdir()) == []


def test_a_huge_learning_rate_is_stopped_as_diverged(tmp_path):
    job = TrainJob(spec(n=300, epochs=50, lr=10.0), runs_dir=tmp_path, slots=Slots(1)).start()
    job.join(30)
    snap = job.snapshot()
    assert snap.state == "failed", snap.message
    assert "diverged" in snap.message and "Try a learning rate of 0.01." in snap.message  # not 1: "very large"
    assert len(snap.epochs) < 50 and list(tmp_path.iterdir()) == []


def test_bad_upload_style_failure_is_reported(tmp_path, monkeypatch):
    def broken(*a, **k):
        raise jobs.DataError("The synthetic dataset is not available in this version.")

    monkeypatch.setattr(jobs, "load_dataset", broken)
    job = TrainJob(JobSpec("synthetic", MODEL, TrainConfig(epochs=1)), runs_dir=tmp_path, slots=Slots(1)).start()
    job.join(10)
    assert job.snapshot().state == "failed" and "not available" in job.snapshot().message


def test_queue_position_and_two_jobs_stay_separate(tmp_path):
    slots = Slots(1)
    a = TrainJob(spec(n=300, epochs=200), runs_dir=tmp_path, slots=slots).start()
    wait_for(a, lambda s: s.state == "training")
    b = TrainJob(spec(classes=("cat", "dog", "fish"), epochs=2), runs_dir=tmp_path, slots=slots).start()
    c = TrainJob(spec(epochs=1), runs_dir=tmp_path, slots=slots).start()
    wait_for(c, lambda s: s.queue_position == 2)
    assert b.snapshot().queue_position == 1 and b.snapshot().state == "queued"
    c.stop()  # cancelled while queued: nothing trained
    assert c.join(2) and c.snapshot().state == "stopped" and "nothing was trained" in c.snapshot().message
    a.stop()
    assert a.join(5) and b.join(30)
    sa, sb = a.snapshot(), b.snapshot()
    assert sb.state == "done" and sa.run_name != sb.run_name
    assert sa.classes == ["neg", "pos"] and sb.classes == ["cat", "dog", "fish"]
    assert load_run(tmp_path / sb.run_name).classes == ["cat", "dog", "fish"]
    assert load_run(tmp_path / sa.run_name).classes == ["neg", "pos"]


def test_two_slots_train_two_jobs_at_once(tmp_path):
    slots = Slots(2)
    a = TrainJob(spec(n=300, epochs=200), runs_dir=tmp_path, slots=slots).start()
    b = TrainJob(spec(n=300, classes=("x", "y", "z"), epochs=200), runs_dir=tmp_path, slots=slots).start()
    for job in (a, b):
        wait_for(job, lambda s: len(s.epochs) >= 1)
    assert slots.busy() == (2, 0)
    a.stop()
    b.stop()
    assert a.join(5) and b.join(5)
    assert len(a.snapshot().reports[0].classes) == 2 and len(b.snapshot().reports[0].classes) == 3
    assert slots.busy() == (0, 0)


def test_a_training_beside_another_gives_bit_identical_weights_to_the_same_training_alone(tmp_path):
    def weights(job):
        assert job.join(120) and job.snapshot().state == "done", job.snapshot().message
        return load_run(job.snapshot().run_path).model.state_dict()

    same = lambda: spec(n=400, epochs=3)  # dropout 0.1: every step draws random masks
    alone = weights(TrainJob(same(), runs_dir=tmp_path / "alone", slots=Slots(1)).start())
    slots = Slots(2)
    other = TrainJob(spec(n=400, classes=("x", "y", "z"), epochs=6, seed=7), runs_dir=tmp_path / "b", slots=slots)
    other.start()
    wait_for(other, lambda s: len(s.steps) > 0)  # the other one is drawing from its generators already
    beside = TrainJob(same(), runs_dir=tmp_path / "beside", slots=slots).start()
    wait_for(beside, lambda s: len(s.steps) > 0 and other.alive)
    together = weights(beside)
    other.stop()
    other.join(30)
    assert all(torch.equal(alone[k], together[k]) for k in alone)


def test_job_box_runs_one_job_and_release_stops_it(tmp_path):
    box = JobBox()
    job = box.start(spec(n=300, epochs=200), runs_dir=tmp_path, slots=Slots(1))
    with pytest.raises(RuntimeError, match="already training"):
        box.start(spec(), runs_dir=tmp_path, slots=Slots(1))
    wait_for(job, lambda s: len(s.steps) > 0)
    box.release()  # what closing the tab does
    assert job.join(2) and job.snapshot().state == "stopped"


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
    job = TrainJob(spec(epochs=1), runs_dir=tmp_path, slots=Slots(1)).start()
    job.join(30)
    return tmp_path / job.snapshot().run_name


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
    assert not saved.exists() and list(tmp_path.iterdir()) == []
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


def test_slots_serve_in_order():
    slots, never = Slots(1), threading.Event()
    assert slots.acquire("a", never)
    order = []
    threads = [threading.Thread(target=lambda j=j: (slots.acquire(j, never), order.append(j))) for j in "bc"]
    threads[0].start()
    while slots.position("b") != 1:
        time.sleep(0.01)
    threads[1].start()
    while slots.position("c") != 2:
        time.sleep(0.01)
    slots.release("a")
    threads[0].join(2)
    assert order == ["b"] and slots.position("c") == 1
    slots.release("b")
    threads[1].join(2)
    assert order == ["b", "c"]

"""Fault catalogue, part 3: trainings that go wrong, and a worker or server killed mid-way.

Every case names a fault, the message a person sees, and checks that nothing was lost: a run saved
before is unchanged and loads, no half-written run ever shows, and the same visitor can train again.
A tab closed mid-training is in tests/browser/test_e2e_train.py (the training goes on and is saved);
a lost worker, a killed web process and queueing on a real cluster are tests/engine/.
Parts 1 and 2 are tests/faults/test_faults_input.py and tests/faults/test_faults_runs.py.
"""

import os
import subprocess
import sys
import time

import pytest
import torch
from kit import ROOT, files, job_dir, new_app, save_old_run, spec, train_here

from attention.app import runlog, trainer
from attention.app.runstore import list_runs
from attention.training import checkpoints
from attention.training.checkpoints import load_run

torch.set_num_threads(1)
pytestmark = pytest.mark.usefixtures("runs_dir")  # every case: a fresh runs folder (tests/conftest.py)


# --- trainings that go wrong (on the worker: the trainer as it runs there, in this process) ------------------


def patch_fit(change):
    """A trainer.fit that misbehaves: change(model, kw) may edit the model or fit's callbacks first."""
    real = trainer.fit

    def fit(model, data, cfg, **kw):
        change(model, kw)
        return real(model, data, cfg, **kw)

    return fit


def nan_loss(mp, stop):
    mp.setattr(trainer, "fit", patch_fit(lambda model, kw: model.head.weight.data.fill_(float("inf"))))


def loss_explodes(mp, stop):  # finite, but far above a guess: what a huge learning rate does with AdamW
    mp.setattr(trainer, "fit", patch_fit(lambda model, kw: kw.update(on_step=lambda s, _, f=kw["on_step"]: f(s, 1e6))))


def stop_in_first_step(mp, stop):  # Stop is pressed while the first batch is being computed
    def change(model, kw):
        poll, polls = kw["should_stop"], []

        def should_stop():  # the first poll sees no Stop yet: the click lands while batch 1 is computed
            polls.append(1)
            return poll() if len(polls) > 1 else bool(stop())

        kw["should_stop"] = should_stop

    mp.setattr(trainer, "fit", patch_fit(change))


def stop_while_loading(mp, stop):
    real = trainer.load_prepared
    mp.setattr(trainer, "load_prepared", lambda *a: (stop(), real(*a))[1])


def error_in_training(mp, stop):
    def fail(model, kw):
        raise RuntimeError("out of memory")

    mp.setattr(trainer, "fit", patch_fit(fail))


def disk_full_on_save(mp, stop):
    def full(*a):
        raise OSError(28, "No space left on device")

    mp.setattr(checkpoints, "write_json", full)


TRAININGS = [  # id, fault, final state, expected fragment of the message, whether a run is saved
    ("loss becomes NaN", nan_loss, "failed", "the loss became nan at epoch 1, step 1", False),
    ("loss explodes, stays finite", loss_explodes, "failed", "Training diverged: over the last 10 steps", False),
    ("Stop during the first step", stop_in_first_step, "stopped", "seen only 16 of 160 training texts", True),
    ("Stop while loading", stop_while_loading, "stopped", "Stopped before the first batch was trained", False),
    ("error inside training", error_in_training, "failed", "failed unexpectedly: RuntimeError: out of memory", False),
    ("disk full while saving", disk_full_on_save, "failed", "OSError: [Errno 28] No space left on device", False),
]


@pytest.mark.parametrize("case, fault, state, fragment, saves", TRAININGS, ids=[t[0] for t in TRAININGS])
def test_a_training_that_goes_wrong_says_why_keeps_old_runs_and_can_be_retried(
    case, fault, state, fragment, saves, runs_dir, monkeypatch
):
    old = save_old_run(runs_dir)
    before = files(old)
    path = job_dir(runs_dir, spec(epochs=50))
    with monkeypatch.context() as mp:
        fault(mp, lambda: (path / runlog.STOP).touch())
        trainer.train(path)
    snap = runlog.Follower(str(path)).update()
    assert snap.state == state and fragment in snap.message, snap.message
    assert len(list_runs(runs_dir)) == 1 + saves and files(old) == before
    hidden = [p.name for p in runs_dir.iterdir() if p.name.startswith(".")]
    assert hidden in ([], [".jobs"], [".cache", ".jobs"])  # no half-written run folder left
    if saves:
        assert load_run(snap.run_path).history["stopped"] == "user"
    again = train_here(runs_dir, spec(epochs=1))  # the same visitor trains again
    assert again.state == "done", again.message


def test_the_train_page_will_not_start_a_second_training_in_the_same_session(runs_dir):
    at = new_app().run().switch_page("pages/train.py").run()
    at.selectbox(key="t_dataset").set_value("synthetic").run()
    at.number_input(key="t_epochs").set_value(500).run()
    at.button(key="start_training").click().run()
    try:
        at.run()
        assert not at.exception
        assert "already training: stop it (below) before starting another" in " ".join(i.value for i in at.info)
        assert at.button(key="start_training").disabled
    finally:
        at.button(key="stop_training").click().run()
    deadline = time.monotonic() + 60
    while at.session_state["_train_watching"] and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert not at.exception and not at.session_state["_train_watching"]


# --- the server killed mid-way ----------------------------------------------------------------

CHILD = """
import os, sys, threading, time
from attention.app import runlog, runstore, trainer
from attention.training import checkpoints
sys.path.insert(0, 'tests')
from kit import job_dir, spec

runs_dir, mode = sys.argv[1], sys.argv[2]
if mode == "training":  # a worker process, killed while it trains
    path = job_dir(runs_dir, spec(epochs=500))
    threading.Thread(target=trainer.train, args=(path,), daemon=True).start()
    while not runlog.Follower(str(path)).update().steps:
        time.sleep(0.01)
    print("training", flush=True)
    time.sleep(60)
real = checkpoints.write_json
checkpoints.write_json = lambda path, obj: os._exit(9) if path.name == "history.json" else real(path, obj)
old = checkpoints.load_run(os.path.join(runs_dir, "old-run"))
if mode == "saving a new run":
    runstore.save_new_run(runs_dir, "tiny-4h", old.model, old.tokenizer, old.classes, {}, {}, {})
else:  # retraining a model into the same folder, as `python -m attention.training.loop --out` does
    checkpoints.save_run(old.path, old.model, old.tokenizer, ["a", "b"], {}, {}, {})
"""
KILLS = [  # id, expected leftovers: the half-written folder stays hidden, under a name starting with "."
    ("training", False),
    ("saving a new run", True),
    ("replacing a run", True),
]


@pytest.mark.parametrize("mode, leftover", KILLS, ids=[k[0] for k in KILLS])
def test_a_server_killed_mid_way_keeps_finished_runs_and_never_shows_a_half_written_one(mode, leftover, runs_dir):
    old = save_old_run(runs_dir)
    before = files(old)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-c", CHILD, str(runs_dir), mode]
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        if mode == "training":
            assert child.stdout.readline().strip() == "training"
            child.kill()  # SIGKILL: no cleanup code runs
        assert child.wait(60) in (-9, 9)
    finally:
        child.kill()
    assert [p.name for p in list_runs(runs_dir)] == ["old-run"] and files(old) == before
    assert load_run(old).classes == ["neg", "pos"]
    assert any(p.name.startswith(".old-run.") or p.name.startswith(".tiny-4h-") for p in runs_dir.iterdir()) == leftover
    at = new_app().run().switch_page("pages/train.py").run()  # after restart
    assert not at.exception
    table = next(d.value for d in at.dataframe if "folder" in d.value.columns)
    own = table[~table["folder"].isin([p.name for p in checkpoints.MODELS_DIR.iterdir()])]
    assert list(own["folder"]) == ["old-run"] and list(own["problem"]) == [""]


class Killed(BaseException):
    """A worker process dying: nothing in the trainer catches it."""


def test_a_training_cut_off_by_a_restart_says_so_and_resumes_from_its_last_epoch(runs_dir, monkeypatch):
    path = job_dir(runs_dir, spec(n=300, epochs=4))
    real_save = trainer.save_fit_state

    def die_after_epoch_2(folder, state):
        real_save(folder, state)
        if state.epoch == 2:
            raise Killed

    with monkeypatch.context() as mp:
        mp.setattr(trainer, "save_fit_state", die_after_epoch_2)
        with pytest.raises(Killed):
            trainer.train(path)
    old = time.time() - 60  # the server restarted a minute later: its engine has never heard of this training
    os.utime(path / runlog.EVENTS, (old, old))
    at = new_app().run().switch_page("pages/train.py").run()
    assert not at.exception
    assert "was interrupted (the server or its workers restarted) after epoch 2" in at.warning[0].value
    at.button(key="resume_training").click().run()
    deadline = time.monotonic() + 120
    while not any("Saved as" in s.value for s in at.success) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert not at.exception and "Finished after 4 epochs" in at.success[0].value
    run = load_run(list_runs(runs_dir)[0])
    assert [e["epoch"] for e in run.history["epochs"]] == [1, 2, 3, 4]

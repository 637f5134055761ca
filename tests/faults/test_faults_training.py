"""Fault catalogue, part 3: trainings that go wrong, two at once, and a server killed mid-way.

Every case names a fault, the message a person sees, and checks that nothing was lost: a run saved
before is unchanged and loads, no half-written run ever shows, and the same session can train again.
A tab closed mid-training is tests/browser/test_e2e_train.py::test_closing_the_tab_stops_the_training_and_keeps_the_run.
Parts 1 and 2 are tests/faults/test_faults_input.py and tests/faults/test_faults_runs.py.
"""

import os
import subprocess
import sys
import time

import pytest
import torch
from kit import APP, ROOT, TIMEOUT, files, save_old_run, spec
from streamlit.testing.v1 import AppTest

from attention.app import jobs
from attention.app.jobs import JobBox, Slots, TrainJob
from attention.app.runstore import list_runs
from attention.training import checkpoints
from attention.training.checkpoints import load_run

torch.set_num_threads(1)
pytestmark = pytest.mark.usefixtures("runs_dir")  # every case: a fresh runs folder (tests/conftest.py)


# --- trainings that go wrong ---------------------------------------------------------------------------------


def patch_fit(change):
    """A jobs.fit that misbehaves: change(model, kw) may edit the model or fit's callbacks first."""
    real = jobs.fit

    def fit(model, data, cfg, **kw):
        change(model, kw)
        return real(model, data, cfg, **kw)

    return fit


def nan_loss(mp, job):
    mp.setattr(jobs, "fit", patch_fit(lambda model, kw: model.head.weight.data.fill_(float("inf"))))


def loss_explodes(mp, job):  # finite, but far above a guess: what a huge learning rate does with AdamW
    mp.setattr(jobs, "fit", patch_fit(lambda model, kw: kw.update(on_step=lambda s, _, f=kw["on_step"]: f(s, 1e6))))


def stop_in_first_step(mp, job):  # Stop is pressed while the first batch is being computed
    def change(model, kw):
        poll, polls = kw["should_stop"], []

        def should_stop():  # the first poll sees no Stop yet: the click lands while batch 1 is computed
            polls.append(1)
            return poll() if len(polls) > 1 else bool(job.stop())

        kw["should_stop"] = should_stop

    mp.setattr(jobs, "fit", patch_fit(change))


def stop_while_loading(mp, job):
    real = jobs.prepare
    mp.setattr(jobs, "prepare", lambda *a: (job.stop(), real(*a))[1])


def error_in_training(mp, job):
    def fail(model, kw):
        raise RuntimeError("out of memory")

    mp.setattr(jobs, "fit", patch_fit(fail))


def disk_full_on_save(mp, job):
    def full(*a):
        raise OSError(28, "No space left on device")

    mp.setattr(checkpoints, "write_json", full)


TRAININGS = [  # id, fault, final state, expected fragment of the message, whether a run is saved
    ("loss becomes NaN", nan_loss, "failed", "the loss became nan at epoch 1, step 1", False),
    ("loss explodes, stays finite", loss_explodes, "failed", "Training diverged: over the last 10 steps", False),
    ("Stop during the first step", stop_in_first_step, "stopped", "seen only 16 of 160 training texts", True),
    ("Stop while loading", stop_while_loading, "stopped", "Stopped before training started: nothing was saved", False),
    ("error inside training", error_in_training, "failed", "failed unexpectedly: RuntimeError: out of memory", False),
    ("disk full while saving", disk_full_on_save, "failed", "OSError: [Errno 28] No space left on device", False),
]


@pytest.mark.parametrize("case, fault, state, fragment, saves", TRAININGS, ids=[t[0] for t in TRAININGS])
def test_a_training_that_goes_wrong_says_why_keeps_old_runs_and_can_be_retried(
    case, fault, state, fragment, saves, runs_dir, monkeypatch
):
    old = save_old_run(runs_dir)
    before = files(old)
    box = JobBox()  # one browser session
    with monkeypatch.context() as mp:
        box.job = job = TrainJob(spec(epochs=50), runs_dir=runs_dir, slots=Slots(1))
        fault(mp, job)
        assert job.start().join(30)
    snap = job.snapshot()
    assert snap.state == state and fragment in snap.message, snap.message
    assert len(list_runs(runs_dir)) == 1 + saves and files(old) == before
    assert [p.name for p in runs_dir.iterdir() if p.name.startswith(".")] == []  # no half-written folder left
    if saves:
        assert load_run(snap.run_path).history["stopped"] == "user"
    again = box.start(spec(epochs=1), runs_dir=runs_dir, slots=Slots(1))  # the same session trains again
    assert again.join(30) and again.snapshot().state == "done", again.snapshot().message


def test_two_trainings_at_once_one_per_session_and_the_second_session_queues(runs_dir):
    old = save_old_run(runs_dir)
    before, slots = files(old), Slots(1)
    first, second = JobBox(), JobBox()
    a = first.start(spec(epochs=500), runs_dir=runs_dir, slots=slots)
    with pytest.raises(RuntimeError, match="This session is already training; stop it first."):
        first.start(spec(epochs=1), runs_dir=runs_dir, slots=slots)
    b = second.start(spec(epochs=1), runs_dir=runs_dir, slots=slots)
    deadline = time.monotonic() + 20
    while not (a.snapshot().steps and b.snapshot().queue_position == 1) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert b.snapshot().state == "queued" and b.snapshot().queue_position == 1 and a.snapshot().state == "training"
    a.stop()
    assert a.join(5) and b.join(30)
    sa, sb = a.snapshot(), b.snapshot()
    assert (sa.state, sb.state) == ("stopped", "done") and sa.run_name != sb.run_name
    assert {p.name for p in list_runs(runs_dir)} == {"old-run", sa.run_name, sb.run_name} and files(old) == before


def test_the_train_page_will_not_start_a_second_training_in_the_same_session(runs_dir):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run().switch_page("pages/train.py").run()
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
    deadline = time.monotonic() + 30
    while at.session_state["_train_watching"] and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert not at.exception and not at.session_state["_train_watching"]


# --- the server killed mid-way ----------------------------------------------------------------

CHILD = """
import os, sys, time
from attention.app import runstore
from attention.app.jobs import Slots, TrainJob
from attention.training import checkpoints
sys.path.insert(0, 'tests')
from kit import spec

runs_dir, mode = sys.argv[1], sys.argv[2]
if mode == "training":
    job = TrainJob(spec(epochs=500), runs_dir=runs_dir, slots=Slots(1)).start()
    while not job.snapshot().steps:
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
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run().switch_page("pages/train.py").run()  # after restart
    assert not at.exception
    table = next(d.value for d in at.dataframe if "folder" in d.value.columns)
    own = table[~table["folder"].isin([p.name for p in checkpoints.MODELS_DIR.iterdir()])]
    assert list(own["folder"]) == ["old-run"] and list(own["problem"]) == [""]

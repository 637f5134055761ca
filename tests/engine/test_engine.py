"""Trainings on a real Dask cluster started as separate processes (tests/engine/conftest.py): they finish,
survive the web process, report a lost worker, stop within a second, queue in order, and stay reproducible."""

import os
import subprocess
import sys
import time

from cluster import ROOT, wait
from kit import files, save_old_run, spec

from attention.app import engine, jobs, runlog
from attention.training.checkpoints import load_run


def finished(job, timeout=120):
    return wait(lambda: (s := job.snapshot()).active is False and s, timeout=timeout)


def weights(snap):
    assert snap.state == "done", snap.message
    return load_run(snap.run_path).model.state_dict()


def test_a_training_runs_on_a_worker_process_and_its_run_appears(cluster, tmp_path):
    job = jobs.start(spec(epochs=2), runs_dir=tmp_path)
    snap = finished(job)
    assert snap.state == "done" and (tmp_path / snap.run_name / "model.safetensors").exists()
    assert len(snap.epochs) == 2 and snap.test_report is not None
    worker_pids = set(engine.client().run(os.getpid).values())
    assert os.getpid() not in worker_pids  # it trained in another process


def test_stop_reaches_the_worker_and_ends_training_within_a_second(cluster, tmp_path):
    job = jobs.start(spec(n=300, epochs=300), runs_dir=tmp_path)
    wait(lambda: len(job.snapshot().epochs) >= 2)
    t0 = time.monotonic()
    job.stop()
    wait(lambda: not job.snapshot().active, timeout=1.0, every=0.01)
    assert time.monotonic() - t0 < 1.0
    snap = job.snapshot()
    assert snap.state == "stopped" and "Stopped by you" in snap.message
    assert load_run(snap.run_path).history["best_epoch"] == snap.best_epoch


def test_more_trainings_than_workers_wait_and_see_their_place(cluster, tmp_path):
    long = [jobs.start(spec(n=300, epochs=300, seed=i), runs_dir=tmp_path) for i in range(2)]
    wait(lambda: all(j.snapshot().state == "training" for j in long))
    third = jobs.start(spec(epochs=1), runs_dir=tmp_path)
    fourth = jobs.start(spec(epochs=1), runs_dir=tmp_path)
    wait(lambda: third.snapshot().queue_position == 1 and fourth.snapshot().queue_position == 2)
    assert engine.busy() == (2, 2, 2)
    assert third.snapshot().notice == ""  # every worker busy: the page says it waits, not that it is starting
    fourth.stop()  # cancelled while waiting: never trains
    assert "nothing was trained" in wait(lambda: (s := fourth.snapshot()).state == "stopped" and s).message
    long[0].stop()
    assert finished(third).state == "done"  # the freed worker takes the next in line
    long[1].stop()
    assert all(finished(j).state == "stopped" for j in long)
    assert '"kind":"steps"' not in (fourth.dir / runlog.EVENTS).read_text()  # the fourth never trained


def test_two_trainings_together_give_the_weights_each_gives_alone(cluster, tmp_path):
    a, b = spec(n=400, epochs=3), spec(n=400, classes=("x", "y", "z"), epochs=3, seed=7)  # dropout: random masks
    together = [jobs.start(s, runs_dir=tmp_path / "together") for s in (a, b)]
    wait(lambda: all(j.snapshot().state == "training" for j in together))  # both at once, on two workers
    ends = [finished(j) for j in together]
    for s, end in zip((a, b), ends):
        solo = finished(jobs.start(s, runs_dir=tmp_path / "alone"))
        alone, w = weights(solo), weights(end)
        worst = max(float((alone[k] - w[k]).abs().max()) for k in alone)  # once failed on a 2-core machine
        assert worst == 0, (worst, end.attempt, solo.attempt, end.epochs, solo.epochs)  # overloaded by 3 other jobs


def test_a_training_goes_on_when_the_web_process_that_started_it_is_killed(cluster, tmp_path):
    script = (
        "import sys, time; sys.path[:0] = ['tests']\n"
        "from kit import spec\nfrom attention.app import jobs\n"
        f"job = jobs.start(spec(n=300, epochs=6), runs_dir={str(tmp_path)!r})\n"
        "print(job.dir, flush=True)\n"
        "while not job.snapshot().epochs: time.sleep(0.05)\n"
        "print('training', flush=True)\ntime.sleep(600)\n"
    )
    env = dict(os.environ, ATTENTION_SCHEDULER=cluster.address, PYTHONPATH=str(ROOT))
    web = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    job_dir = web.stdout.readline().strip()
    assert web.stdout.readline().strip() == "training"
    web.kill()
    web.wait(10)
    snap = finished(jobs.Job(job_dir))
    assert snap.state == "done" and len(snap.epochs) == 6 and load_run(snap.run_path).classes == ["neg", "pos"]


def test_a_lost_worker_is_reported_and_earlier_runs_are_untouched(cluster, tmp_path):
    old = save_old_run(tmp_path)
    before = files(old)
    job = jobs.start(spec(n=300, epochs=300), runs_dir=tmp_path)
    wait(lambda: len(job.snapshot().epochs) >= 1)
    busy = lambda dask_scheduler: [ws.address for ws in dask_scheduler.workers.values() if ws.executing]
    where = wait(lambda: engine.client().run_on_scheduler(busy))  # as its heartbeat reports it
    pid = engine.client().run(os.getpid, workers=where)[where[0]]
    cluster.kill(pid)
    cluster.add_worker()  # the module's other tests want two
    snap = wait(lambda: (s := job.snapshot()).notice and s, timeout=60)
    assert "lost" in snap.notice
    job.stop()
    assert finished(job).state in ("stopped", "done")
    assert files(old) == before

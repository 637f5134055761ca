"""Where trainings run: a Dask distributed cluster, embedded by default, or an existing one by one setting.

ATTENTION_SCHEDULER unset: an embedded LocalCluster whose workers are processes that start when a training is
submitted and go away after IDLE_S seconds without one (adaptive scaling), at most ATTENTION_MAX_TRAININGS.
ATTENTION_SCHEDULER=tcp://host:8786: trainings go to that cluster's workers (started with
`--resources training=1`, and the repository on their Python path). Dask queues the work, caps concurrency
(each worker offers one unit of the `training` resource; a training takes one), and its scheduler's state
gives a waiting training its place. Each training is one fire-and-forget task, so it finishes even if the web
process that submitted it goes away. What a training reports is in its job folder (attention/app/runlog.py).
"""

import logging
import os
import threading
import time
from pathlib import Path

import dask
from distributed import Client, Future, Scheduler, SpecCluster, fire_and_forget
from distributed.deploy.subprocess import SubprocessWorker

from attention.app import runlog, trainer

SCHEDULER = os.environ.get("ATTENTION_SCHEDULER", "")
MAX_TRAININGS = int(os.environ.get("ATTENTION_MAX_TRAININGS", "2"))  # embedded: 2 cores, one torch thread each
IDLE_S = int(os.environ.get("ATTENTION_WORKER_IDLE_S", "60"))  # embedded: an idle worker goes after this long
RESOURCE = "training"
PREFIX = "train-"  # task keys: "train-<job id>"
WAITING = ("released", "waiting", "queued", "no-worker", "processing")  # Dask's states of a task not yet running
ROOT = Path(__file__).resolve().parents[2]  # the repository: a worker process imports attention/ from here

_lock = threading.Lock()
_client = None


def client() -> Client:
    """The process's Dask client; the embedded cluster is made on first use."""
    global _client
    with _lock:
        if _client is None:
            _client = Client(SCHEDULER, timeout="10s") if SCHEDULER else Client(_embedded())
        return _client


def _embedded():
    """A scheduler in this process; workers as `python -m dask spec` processes of their own, so they import only
    what a training needs (a multiprocessing child would run the web app's script again) and any that a
    training crashes takes nothing else with it. Adaptive scaling starts and retires them."""
    logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines would drown the server's log
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # the same for workers (they inherit it)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    # A training's duration is unknown to Dask until one has run; saying it is long makes adaptive scaling start
    # a worker per waiting training (up to the maximum) instead of queueing every one on the first worker.
    with dask.config.set({"distributed.scheduler.default-task-durations": {PREFIX.rstrip("-"): "1h"}}):
        # Dask serves /health and /metrics even with no dashboard: on any free loopback port, so that several apps on
        # one machine (the tests start many) do not contend for its default 8787.
        http = dict(host="127.0.0.1", dashboard=False, dashboard_address="127.0.0.1:0")
        scheduler = dict(cls=Scheduler, options=dict(port=0, **http))
        opts = dict(nthreads=1, resources={RESOURCE: 1}, memory_limit=0, **http)
        opts["preload"] = ["attention.app.trainer"]
        worker = dict(cls=SubprocessWorker, options=dict(worker_class="distributed.Worker", worker_kwargs=opts))
        cluster = SpecCluster(scheduler=scheduler, worker=worker, name="attention")
    cluster.adapt(minimum=0, maximum=MAX_TRAININGS, interval="1s", wait_count=IDLE_S)
    return cluster


def close():
    """Let go of the client (and the embedded cluster with its workers); the next use connects again."""
    global _client
    with _lock:
        if _client is not None:
            cluster = _client.cluster
            _client.close()
            if cluster is not None:
                cluster.close()
        _client = None


def warm():
    """Have a worker ready before anyone presses Start (the Train page calls this): an embedded cluster with none
    starts one, which adaptive scaling retires again after IDLE_S seconds without a training."""
    if SCHEDULER:
        return
    cluster = client().cluster
    if not cluster.workers:
        cluster.scale(1)


def submit(job_dir):
    """Queue the training whose spec is in `job_dir` (trainer.write_spec); it runs even if nobody waits for it."""
    job_dir = Path(job_dir)
    key = PREFIX + job_dir.name
    first_come = -time.time_ns() // 1_000_000  # higher runs first: the earlier submitted (Dask's own order is not)
    kw = dict(key=key, resources={RESOURCE: 1}, priority=first_come, pure=False)
    future = client().submit(trainer.train, str(job_dir), **kw)
    fire_and_forget(future)


def stop(job_dir):
    """Ask a training to stop: its trainer sees the file within a batch. One that has not begun is also taken out of
    the queue (if a worker takes it meanwhile, the trainer finds the file first and trains nothing)."""
    job_dir = Path(job_dir)
    (job_dir / runlog.STOP).touch()
    if not runlog.begun(job_dir):
        Future(PREFIX + job_dir.name, client()).cancel()
        runlog.append(job_dir, "end", state="stopped", message="Cancelled while waiting; nothing was trained.")


def queue():
    """The engine's view of every training: {"tasks": {key: state}, "waiting": [keys, first first], "running": how
    many execute, "capacity"}.

    A task's state is Dask's, or "executing" once its worker reports it running (worker heartbeats: up to about a
    second late). A waiting task may already be "processing": the scheduler hands a resource-bound task to a worker
    that offers the resource, where it waits for the training before it to end (or is stolen by a freed worker).
    """
    return client().run_on_scheduler(_queue)


def _queue(dask_scheduler):
    """Runs on the scheduler (which therefore imports this module: see the README's scale-out section)."""
    executing = {ts.key for ws in dask_scheduler.workers.values() for ts in ws.executing}
    mine = [ts for key, ts in dask_scheduler.tasks.items() if str(key).startswith(PREFIX)]
    tasks = {ts.key: "executing" if ts.key in executing else ts.state for ts in mine}
    waiting = sorted((ts for ts in mine if tasks[ts.key] in WAITING), key=_priority)
    capacity = sum(ws.resources.get(RESOURCE, 0) for ws in dask_scheduler.workers.values())
    running = sum(state == "executing" for state in tasks.values())
    return dict(tasks=tasks, waiting=[ts.key for ts in waiting], running=running, capacity=capacity)


def _priority(ts):
    return ts.priority or ()


def place(q, job_id):
    """1 = next to start, 0 = not waiting."""
    key = PREFIX + job_id
    return q["waiting"].index(key) + 1 if key in q["waiting"] else 0


def busy():
    """(running, waiting, capacity) over every visitor's trainings; the embedded cluster before its first use has
    none (and asking would start it)."""
    if _client is None and not SCHEDULER:
        return 0, 0, MAX_TRAININGS
    q = queue()
    return q["running"], len(q["waiting"]), q["capacity"] or (0 if SCHEDULER else MAX_TRAININGS)

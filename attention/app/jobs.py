"""Trainings a page starts and follows: the form's checks, start(), and Job, one training seen from the web.

A training runs on the job engine (attention/app/engine.py: Dask), never in the web process. start() writes
the job folder (spec, an upload's texts) and submits it; Job.snapshot() reads the folder's event log
(attention/app/runlog.py) and asks the engine where a waiting or interrupted training stands.
"""

import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from attention.app import engine, runlog, runstore, trainer
from attention.data.types import TextDataset
from attention.training.loop import TrainConfig

JOBS = ".jobs"  # job folders, under the runs folder (a dot: never listed as a run)
STARTING_S = 5  # a log written to this recently belongs to a training still on its way or running, not lost


@dataclass(frozen=True)
class JobSpec:
    dataset: str  # a name from attention.data.DATASETS, or the uploaded dataset's name
    model: dict  # ModelConfig fields the person chose: d_model, num_heads, num_layers, positional, pad_mask, causal
    train: TrainConfig = TrainConfig()
    upload: TextDataset | None = None  # an already validated upload; built-in datasets load on the worker


# The Train form's number fields: (label on the page, smallest, largest). The page checks them here, not in the
# widgets: a number input refuses an out-of-range value in the browser and never sends it, so the server would
# train with the previous valid value while the field shows the new one.
LIMITS = dict(
    num_heads=("Heads", 1, 16),
    d_model=("d_model", 8, 256),
    num_layers=("Layers", 1, 4),
    epochs=("Epochs (at most)", 1, 500),
    patience=("Stop early after … epochs without progress", 1, 500),
    seed=("Seed", 0, 2**31 - 1),
)
SMALL_SPLIT = 20  # a validation or test split with fewer texts than this measures little


def out_of_range(spec: JobSpec):
    """A message for every number outside its field's range, naming the field."""
    values = {**spec.model, **asdict(spec.train)}
    return [
        f"{label} must be a whole number from {low:,} to {high:,}; it is {values[k]:,}. Nothing can start until "
        "it is in range."
        for k, (label, low, high) in LIMITS.items()
        if k in values and not low <= values[k] <= high
    ]


def check(spec: JobSpec):
    """(errors, warnings) about a spec, in plain words, before anything is trained."""
    errors, warnings = out_of_range(spec), []
    d, h = spec.model.get("d_model", 64), spec.model.get("num_heads", 4)
    if not errors and d % h:
        sizes = " or ".join(str(x) for x in sorted({d // h * h, -(-d // h) * h}) if x > 0)
        heads = sorted((k for k in range(1, 17) if d % k == 0), key=lambda k: (abs(k - h), k))[:2]
        errors.append(
            f"d_model {d} is not divisible by {h} heads: each head gets d_model / heads = {d / h:.2f} "
            f"dimensions, which must be a whole number. Try d_model {sizes}, "
            f"or {' or '.join(map(str, sorted(heads)))} heads."
        )
    if spec.train.lr > 0.1:
        warnings.append(
            f"A learning rate of {spec.train.lr:g} is very large: the loss will likely blow up (to NaN, or to "
            "values far above where it started) and training will stop. Values between 1e-3 and 1e-2 usually work."
        )
    if spec.upload is not None:
        warnings += small_splits(spec.upload)
    return errors, warnings


def small_splits(ds: TextDataset):
    """A warning when the validation or test split of an upload is too small for its numbers to mean anything."""
    sizes = {"validation": len(ds.val.texts), "test": len(ds.test.texts)}
    small = {k: n for k, n in sizes.items() if n < SMALL_SPLIT}
    if not small:
        return []
    said = " and ".join(f"the {k} split has {n} text{'s' * (n != 1)}" for k, n in small.items())
    return [
        f"This file is small: {said} (10% of the rows each). Accuracy measured on so few texts says little, and "
        f"early stopping follows noise; upload at least {SMALL_SPLIT * 10} rows for numbers you can trust."
    ]


def start(spec: JobSpec, runs_dir=None) -> "Job":
    """Write the job folder (under the owner's runs folder) and hand the training to the engine; the Job to follow."""
    runs_dir = Path(runs_dir or runstore.RUNS_DIR)
    job_dir = runs_dir / JOBS / uuid.uuid4().hex
    cache = runstore.RUNS_DIR / runstore.CACHE  # built-in datasets only: shared by every owner
    trainer.write_spec(job_dir, spec.dataset, spec.model, spec.train, runs_dir, spec.upload, cache)
    engine.submit(job_dir)
    return Job(job_dir)


def current(runs_dir) -> "Job | None":
    """The owner's latest training if it has not ended: a reloaded tab, or a second one, follows it again."""
    folders = [p for p in (Path(runs_dir) / JOBS).glob("*") if (p / runlog.SPEC).is_file()]
    latest = max(folders, key=lambda p: (p / runlog.SPEC).stat().st_mtime, default=None)
    return Job(latest) if latest is not None and not runlog.ended(latest) else None


class Job:
    """One training seen from a web process: its log, followed, and the engine's word on where it stands."""

    def __init__(self, job_dir):
        self.dir = Path(job_dir)
        self.id = self.dir.name
        self._log = runlog.Follower(str(job_dir))

    def stop(self):
        engine.stop(self.dir)

    def resume(self):
        """Hand an interrupted training to the engine again: it goes on after its last whole epoch."""
        (self.dir / runlog.STOP).unlink(missing_ok=True)
        engine.submit(self.dir)

    def snapshot(self):
        p = self._log.update()
        p.notice = ""
        if p.active:
            self._engine_says(p, engine.queue())
        return p

    def _engine_says(self, p, q):
        """A waiting training's place; a running one whose worker was lost, or that the engine no longer has."""
        state = q["tasks"].get(engine.PREFIX + self.id)
        quiet = time.time() - runlog.last_written(self.dir) > STARTING_S  # a running trainer writes every 0.25 s
        if state is None and quiet:
            p.state = "interrupted"  # not the follower's state: a resumed training's log goes on
            p.message = "This training was interrupted (the server or its workers restarted)" + (
                f" after epoch {len(p.epochs)}. Resume it to go on from there." if p.epochs else ". Start it again."
            )
        elif p.state == "queued":
            p.queue_position = engine.place(q, self.id)
            if not q["capacity"]:
                p.notice = "Starting a worker for this training (a few seconds)…"
            elif p.queue_position <= 1 and q["running"] < q["capacity"]:  # a worker is free: it is being handed over
                p.notice = "Starting your training…"
        elif state == "no-worker" or (state in engine.WAITING and p.attempt and quiet):
            p.notice = f"The worker training this was lost. It will go on {after(p)} once a worker is free."
        elif p.attempt > 1:
            p.notice = f"A worker training this was lost; training went on {after(p)}."


def after(p):
    """Where a lost worker's training goes on: after its last whole epoch, or from the start."""
    return f"after epoch {len(p.epochs)}" if p.epochs else "from the start"

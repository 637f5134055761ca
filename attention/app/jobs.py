"""Training in a background thread that a page can watch: queue, start, progress, stop, save.

The thread runs attention.training.loop.fit and never calls Streamlit. A page polls
TrainJob.snapshot() (a copy taken under the job's lock) and stop() only sets an Event,
which fit polls every batch. A process-wide Slots object caps concurrent trainings
(2 cores, one torch thread per training); waiting jobs know their place in the queue.
"""

import logging
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from attention.app import allocator
from attention.app import progress as ev
from attention.app.runstore import save_new_run
from attention.data.registry import load_dataset
from attention.data.types import DataError, TextDataset
from attention.training.loop import (
    TrainConfig,
    TrainingDiverged,
    build_model,
    final_metrics,
    final_reports,
    fit,
    prepare,
)

log = logging.getLogger(__name__)
# One torch thread per training: with two, any other busy process (the server drawing the page, a browser)
# makes OpenMP threads wait on each other and training ran 3-5x slower here; with one it did not slow down.
TORCH_THREADS = 1


class Slots:
    """A first-come-first-served semaphore that can tell a waiting job its place in the queue."""

    def __init__(self, n):
        self.n = n
        self._cond = threading.Condition()
        self._waiting, self._running = [], set()

    def acquire(self, job_id, cancelled: threading.Event) -> bool:
        """Wait for a free slot in turn; False if `cancelled` was set while waiting."""
        with self._cond:
            self._waiting.append(job_id)
            try:
                while not (self._waiting[0] == job_id and len(self._running) < self.n):
                    if cancelled.is_set():
                        return False
                    self._cond.wait(0.1)
                self._running.add(job_id)
                return True
            finally:
                self._waiting.remove(job_id)
                self._cond.notify_all()

    def release(self, job_id):
        with self._cond:
            self._running.discard(job_id)
            self._cond.notify_all()

    def position(self, job_id) -> int:
        """1 = next to start; 0 = not waiting."""
        with self._cond:
            return self._waiting.index(job_id) + 1 if job_id in self._waiting else 0

    def busy(self):
        """(running, waiting) counts."""
        with self._cond:
            return len(self._running), len(self._waiting)


SLOTS = Slots(int(os.environ.get("ATTENTION_MAX_TRAININGS", "2")))  # 2 cores, one torch thread per training


@dataclass(frozen=True)
class JobSpec:
    dataset: str  # a name from attention.data.DATASETS, or the uploaded dataset's name
    model: dict  # ModelConfig fields the person chose: d_model, num_heads, num_layers, positional, pad_mask, causal
    train: TrainConfig = TrainConfig()
    upload: TextDataset | None = None  # an already validated upload; built-in datasets load in the thread


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


class TrainJob:
    """One training in a background thread. start(), snapshot(), stop(), join()."""

    def __init__(self, spec: JobSpec, runs_dir=None, slots: Slots | None = None):
        self.id = uuid.uuid4().hex[:8]
        self.spec, self.runs_dir, self.slots = spec, runs_dir, slots or SLOTS
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._blown_up = ""  # set by _on_step when the loss explodes without becoming NaN
        self._p = ev.Progress(dataset=spec.dataset, max_epochs=spec.train.epochs, batch_size=spec.train.batch_size)
        self._thread = threading.Thread(target=self._run, name=f"train-{self.id}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Ask the job to end: fit notices within one batch, keeps the best weights, and the run is saved."""
        self._stop.set()

    def join(self, timeout=None):
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self):
        return self._thread.is_alive()

    def snapshot(self) -> ev.Progress:
        """A consistent copy: lists are copied, their items are never changed once appended."""
        with self._lock:
            p = self._p
            lists = {k: list(getattr(p, k)) for k in ("steps", "step_times", "epochs", "reports", "val_preds")}
            snap = replace(p, **lists, probe_weights=list(p.probe_weights), now=time.monotonic())
        if snap.state == "queued":
            snap.queue_position = self.slots.position(self.id)
        return snap

    def _set(self, **kw):
        with self._lock:
            for k, v in kw.items():
                setattr(self._p, k, v)

    # --- the thread ----------------------------------------------------------------------------

    def _run(self):
        try:
            if not self.slots.acquire(self.id, self._stop):
                self._set(state="stopped", message="Cancelled while waiting for a free slot; nothing was trained.")
                return
            try:
                self._train()
            finally:
                self.slots.release(self.id)
                allocator.trim()  # what the training freed goes back to the system
        except TrainingDiverged as e:
            self._set(state="failed", message=f"{e} Nothing was saved.", best_epoch=None)
        except DataError as e:
            self._set(state="failed", message=str(e))
        except Exception as e:  # the page must hear about anything, the thread must not die silently
            log.exception("training job %s failed", self.id)
            self._set(state="failed", message=f"Training failed unexpectedly: {type(e).__name__}: {e}")

    def _train(self):
        cfg, spec = self.spec.train, self.spec
        torch.set_num_threads(TORCH_THREADS)  # for this thread's OpenMP team and threads started later
        self._set(state="loading")
        dataset = spec.upload or load_dataset(spec.dataset, seed=cfg.seed)
        data = prepare(dataset, cfg)
        model = build_model(data, spec.model, cfg)  # as training.loop.train_run: same spec, same model
        probe_texts = ev.pick_probes(dataset.name, data.texts["val"], data.tokenizer)
        probes = ev.probe_attention(model, data.tokenizer, probe_texts)
        self._set(
            state="training",
            dataset=dataset.name,
            classes=list(data.classes),
            n_train=len(data.train),
            steps_per_epoch=-(-len(data.train) // cfg.batch_size),
            val_texts=list(data.texts["val"]),
            val_labels=data.val.labels.tolist(),
            probe_texts=probe_texts,
            probe_tokens=[tokens for tokens, _ in probes],
            probe_weights=[[w for _, w in probes]],
            t_start=time.monotonic(),
        )
        if self._stop.is_set():
            self._set(state="stopped", message="Stopped before training started: nothing was saved.")
            return
        on_eval = lambda record, preds: self._on_eval(model, data, record, preds)
        stop = lambda: self._stop.is_set() or bool(self._blown_up)
        history = fit(model, data, cfg, on_step=self._on_step, on_eval=on_eval, should_stop=stop)
        if self._blown_up:
            self._set(state="failed", message=self._blown_up)
            return
        if not history["epochs"]:
            self._set(state="stopped", message="Stopped before the first batch was trained: nothing was saved.")
            return
        self._set(state="saving", best_epoch=history["best_epoch"])
        self._save(model, data, dataset, history)

    def _on_step(self, step, loss):
        now = time.monotonic()
        with self._lock:
            self._p.steps.append(loss)
            self._p.step_times.append(now)
            self._blown_up = ev.blown_up(self._p.steps, len(self._p.classes), self.spec.train.lr)

    def _on_eval(self, model, data, record, preds):
        """Once per epoch, from fit's own validation pass: the report, and where the probe sentences look."""
        rep = ev.epoch_report(data.val.labels.tolist(), preds, data.classes)
        probes = [w for _, w in ev.probe_attention(model, data.tokenizer, self._p.probe_texts)]
        now = time.monotonic()
        with self._lock:
            p = self._p
            p.epochs.append(record)
            p.reports.append(rep)
            p.val_preds.append(preds.numpy().astype(np.int32))
            p.probe_weights.append(probes)
            p.t_epoch = now

    def _save(self, model, data, dataset, history):
        """Final metrics (the best epoch's weights are back in the model) and the run folder."""
        p = self.snapshot()
        best = history["best_epoch"]
        reports = final_reports(model, data)
        cfg, heads = self.spec.train, model.cfg.num_heads
        wrong = ev.mistakes(p.val_texts, p.val_labels, p.val_preds[best - 1], data.classes)
        metrics = dict(final_metrics(reports), misclassified=wrong)
        history = dict(history, probes=ev.probes_to_json(p.probe_texts, p.probe_tokens, p.probe_weights))
        note = ev.stop_note(history, p.epochs, p.n_train, cfg.batch_size)
        meta = dict(
            name=f"{dataset.name} · {heads} head{'s' * (heads > 1)}",
            dataset=dataset.name,
            train=asdict(cfg),
            parameters=model.num_parameters(),
            created=time.strftime("%Y-%m-%d %H:%M:%S"),
            note=note,
        )
        own_val = dict(texts=p.val_texts, labels=p.val_labels) if self.spec.upload is not None else None
        base = f"{dataset.name}-{heads}h"
        path = save_new_run(self.runs_dir, base, model, data.tokenizer, data.classes, meta, history, metrics, own_val)
        state = "stopped" if history["stopped"] == "user" else "done"
        saved = dict(
            test_report=reports["test"][0], run_path=str(path), run_name=path.name, message=note, mistakes=wrong
        )
        self._set(state=state, **saved, val_texts=[], val_labels=[], val_preds=[])  # the page needs them no more


class JobBox:
    """A session's current job (at most one at a time); release() stops it when the session ends."""

    def __init__(self):
        self.job: TrainJob | None = None

    def start(self, spec: JobSpec, **kw) -> TrainJob:
        if self.job is not None and self.job.alive:
            raise RuntimeError("This session is already training; stop it first.")
        self.job = TrainJob(spec, **kw).start()
        return self.job

    def release(self):
        if self.job is not None:
            self.job.stop()

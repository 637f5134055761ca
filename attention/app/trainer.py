"""One training as the engine runs it, on a worker: read the job's spec, train, log progress, save the run.

train(job_dir) is the whole task: everything it needs is in the job folder (spec.json; an upload's texts), and
everything it reports goes to the folder's event log (attention/app/runlog.py), so the web process that started
it may go away, or be another process on another machine. Stop is a file in the folder, polled every batch.
"""

import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from attention.app import allocator, runlog
from attention.app import progress as ev
from attention.app.head_job import is_head_job, train_on_minilm
from attention.app.runstore import CACHE, save_new_run
from attention.core.model import AttentionClassifier, ModelConfig
from attention.data.types import DataError, Split, TextDataset
from attention.training.checkpoints import CheckpointError
from attention.training.fit_state import clear_fit_state, load_fit_state, save_fit_state
from attention.training.loop import TrainConfig, TrainingDiverged, build_model, final_metrics, final_reports, fit
from attention.training.prepared import load_prepared

log = logging.getLogger(__name__)
# One torch thread per training: with two, any other busy process (the server drawing the page, a browser)
# makes OpenMP threads wait on each other and training ran 3-5x slower here; with one it did not slow down.
TORCH_THREADS = 1
# Workers yield the CPU to the web server: on a machine both share, a page answers a visitor first and training
# takes what is left (Linux gives a niceness-5 process about a quarter of a contended core against a niceness-0 one).
NICE = 5
FLUSH_STEPS = 0.25  # seconds between appends of step losses: a page redraws every 0.5 s


def dask_setup(worker):
    """Dask calls this when a worker starts (this module is its preload): one tiny training step, so that a
    visitor's first training does not wait for torch's lazy set-up (about 1.5 s here). Also lowers the worker's
    priority (NICE): threads it starts later, the one that trains included, inherit it."""
    os.nice(NICE)
    torch.set_num_threads(TORCH_THREADS)
    model = AttentionClassifier(ModelConfig(vocab_size=4, num_classes=2, d_model=8, num_heads=2))
    opt = torch.optim.AdamW(model.parameters())
    logits, _ = model(torch.ones(1, 3, dtype=torch.long))
    logits.sum().backward()
    opt.step()


def write_spec(job_dir, dataset, model, train: TrainConfig, runs_dir, upload: TextDataset | None = None, cache=None):
    """The job folder's spec.json: what to train, where to save it, where prepared datasets are cached; an upload's
    rows go in with it."""
    cache = str(cache or Path(runs_dir) / CACHE)
    spec = dict(dataset=dataset, model=model, train=asdict(train), runs_dir=str(runs_dir), cache=cache)
    if upload is not None:
        splits = {k: asdict(getattr(upload, k)) for k in ("train", "val", "test")}
        spec["upload"] = dict(name=upload.name, classes=list(upload.classes), description=upload.description, **splits)
    Path(job_dir).mkdir(parents=True, exist_ok=True)
    (Path(job_dir) / runlog.SPEC).write_text(json.dumps(spec), encoding="utf-8")


def read_spec(job_dir):
    spec = json.loads((Path(job_dir) / runlog.SPEC).read_text(encoding="utf-8"))
    spec["train"] = TrainConfig(**spec["train"])
    if up := spec.get("upload"):
        splits = {k: Split(up[k]["texts"], up[k]["labels"]) for k in ("train", "val", "test")}
        spec["upload"] = TextDataset(up["name"], up["classes"], **splits, description=up["description"])
    return spec


def train(job_dir):
    """The engine's task. Never raises for what a user can cause: the log's end event says what happened."""
    job_dir = Path(job_dir)
    try:
        if (job_dir / runlog.STOP).exists() and not runlog.begun(job_dir):  # cancelled while it waited: engine.stop()
            return  # wrote the end already (a lost worker's training stopped while it waited again goes on to save)
        _train(job_dir, read_spec(job_dir))
    except TrainingDiverged as e:
        end(job_dir, "failed", f"{e} Nothing was saved.", best_epoch=None)
    except DataError as e:
        end(job_dir, "failed", str(e))
    except Exception as e:  # the page must hear about anything
        log.exception("training job %s failed", job_dir.name)
        end(job_dir, "failed", f"Training failed unexpectedly: {type(e).__name__}: {e}")
    finally:
        allocator.trim()  # what the training freed goes back to the system


def end(job_dir, state, message, **saved):
    runlog.append(job_dir, "end", state=state, message=message, **saved)


def _train(job_dir, spec):
    torch.set_num_threads(TORCH_THREADS)
    if is_head_job(spec):
        return train_on_minilm(job_dir, spec)
    cfg = spec["train"]
    runlog.append(job_dir, "begin", dataset=spec["dataset"], max_epochs=cfg.epochs, batch_size=cfg.batch_size)
    dataset, data = load_prepared(spec["dataset"], cfg, spec["cache"], spec.get("upload"))
    model = build_model(data, spec["model"], cfg)  # as training.loop.train_run: same spec, same model
    state = resume_state(job_dir, model)
    probe_texts = ev.pick_probes(dataset.name, data.texts["val"], data.tokenizer)
    probes = ev.probe_attention(model, data.tokenizer, probe_texts)
    watch = Watch(job_dir, len(data.classes), cfg.lr, probe_texts, [tokens for tokens, _ in probes])
    before = [as_json(w) for _, w in probes]  # epoch 0: before training
    if state:
        runlog.append(job_dir, "resumed", epochs=state.epoch)
        watch.catch_up(runlog.Follower(str(job_dir)).update())
    else:
        runlog.append(
            job_dir,
            "ready",
            dataset=dataset.name,
            classes=list(data.classes),
            n_train=len(data.train),
            steps_per_epoch=-(-len(data.train) // cfg.batch_size),
            val_texts=list(data.texts["val"]),
            val_labels=data.val.labels.tolist(),
            probe_texts=probe_texts,
            probe_tokens=watch.probe_tokens,
            probes=before,
        )
        watch.probes.append(before)
    on_eval = lambda record, preds: watch.epoch(model, data, record, preds)
    on_checkpoint = lambda fit_state: save_fit_state(job_dir, fit_state)
    events = dict(on_step=watch.step, on_eval=on_eval, should_stop=watch.should_stop, on_checkpoint=on_checkpoint)
    history = fit(model, data, cfg, resume=state, **events)
    watch.flush()
    if watch.blown_up:
        return end(job_dir, "failed", watch.blown_up)
    if not history["epochs"]:
        return end(job_dir, "stopped", "Stopped before the first batch was trained: nothing was saved.")
    runlog.append(job_dir, "saving", best_epoch=history["best_epoch"])
    save(job_dir, spec, model, data, dataset, history, watch)
    clear_fit_state(job_dir)  # saved as a run: the state is no longer needed


def resume_state(job_dir, model):
    """The state saved after the last whole epoch of an earlier attempt (a lost worker, a restart), or None."""
    try:
        return load_fit_state(job_dir, model)
    except CheckpointError:
        log.warning("job %s: its saved state is unreadable; training again from the start", job_dir.name)
        return None


class Watch:
    """fit's callbacks: step losses appended in batches, one event per epoch, the stop file, divergence."""

    def __init__(self, job_dir, num_classes, lr, probe_texts, probe_tokens):
        self.job_dir, self.num_classes, self.lr = Path(job_dir), num_classes, lr
        self.probe_texts, self.probe_tokens = probe_texts, probe_tokens
        self.losses, self.times, self.pending, self.last_flush = [], [], 0, time.time()
        self.blown_up, self.val_preds, self.probes = "", [], []  # probes: per epoch (0 = before training)

    def step(self, step, loss):
        now = time.time()
        self.losses.append(loss)
        self.times.append(now)
        self.pending += 1
        self.blown_up = ev.blown_up(self.losses, self.num_classes, self.lr)
        if now - self.last_flush >= FLUSH_STEPS:
            self.flush()

    def flush(self):
        if self.pending:
            new = slice(len(self.losses) - self.pending, None)
            runlog.append(self.job_dir, "steps", losses=self.losses[new], times=self.times[new])
            self.pending, self.last_flush = 0, time.time()

    def catch_up(self, p):
        """Resuming: what the earlier attempt logged up to its last whole epoch (the begin event cut the rest)."""
        self.losses, self.times = list(p.steps), list(p.step_times)
        self.val_preds = [preds.tolist() for preds in p.val_preds]
        self.probes = [[as_json(w) for w in probe] for probe in p.probe_weights]

    def should_stop(self):
        return bool(self.blown_up) or (self.job_dir / runlog.STOP).exists()

    def epoch(self, model, data, record, preds):
        """Once per epoch, from fit's own validation pass: the predictions, and where the probe sentences look."""
        self.flush()
        probes = [as_json(w) for _, w in ev.probe_attention(model, data.tokenizer, self.probe_texts)]
        self.val_preds.append(preds.tolist())
        self.probes.append(probes)
        runlog.append(self.job_dir, "epoch", record=record, preds=preds.tolist(), probes=probes)


def as_json(layers):
    """Per-layer (H, T, T) weights as nested lists, 4 decimals (short in JSON)."""
    return [np.round(np.asarray(w, dtype=np.float64), 4).tolist() for w in layers]


def save(job_dir, spec, model, data, dataset, history, watch):
    """Final metrics (the best epoch's weights are back in the model), the run folder, the end event."""
    cfg, heads, best = spec["train"], model.cfg.num_heads, history["best_epoch"]
    reports = final_reports(model, data)
    texts, labels = list(data.texts["val"]), data.val.labels.tolist()
    wrong = ev.mistakes(texts, labels, watch.val_preds[best - 1], data.classes)
    metrics = dict(final_metrics(reports), misclassified=wrong)
    note = ev.stop_note(history, history["epochs"], len(data.train), cfg.batch_size)
    history = dict(history, probes=dict(texts=watch.probe_texts, tokens=watch.probe_tokens, epochs=watch.probes))
    meta = dict(
        name=f"{dataset.name} · {heads} head{'s' * (heads > 1)}",
        dataset=dataset.name,
        train=asdict(cfg),
        parameters=model.num_parameters(),
        created=time.strftime("%Y-%m-%d %H:%M:%S"),
        note=note,
    )
    own_val = dict(texts=texts, labels=labels) if spec.get("upload") is not None else None
    base = f"{dataset.name}-{heads}h"
    args = (model, data.tokenizer, data.classes, meta, history, metrics, own_val)
    path = save_new_run(spec["runs_dir"], base, *args)
    state = "stopped" if history["stopped"] == "user" else "done"
    test = reports["test"][0].to_dict(reports["test"][1])
    end(job_dir, state, note, best_epoch=best, run_name=path.name, run_path=str(path), test=test, mistakes=wrong)

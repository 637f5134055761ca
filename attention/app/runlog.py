"""A training's progress as an append-only event log in its job folder: the worker writes, any web process reads.

One JSON object per line in `events.jsonl`. The worker that trains appends (attention/app/trainer.py); a page
follows the file from where it last read and folds the new events into a Progress (attention/app/progress.py).
A line is complete once it ends in a newline: a half-written last line is left for the next read. Times are
wall-clock seconds (time.time()), so a web process on another machine reads them the same way.

Events, in order: begin (an attempt starts), then ready (data loaded: classes, sizes, validation texts, probes at
epoch 0) or, for an attempt that goes on from an earlier one's checkpoint, resumed (after which epoch), steps
(train losses and their times), epoch (fit's record, validation predictions, probe attention), saving, end
(final state, message, the saved run). A second begin means the worker was lost or the server restarted: its
ready starts the reading over, its resumed drops what was logged after that epoch.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attention.app import progress as ev

EVENTS = "events.jsonl"
SPEC = "spec.json"
STOP = "stop"  # its presence asks the trainer to stop (a file: it reaches a worker on any machine sharing the folder)


def append(job_dir, kind, **data):
    """Append one event; written in one call so a reader never sees half of it followed by another event."""
    line = json.dumps(dict(kind=kind, t=time.time(), **data), separators=(",", ":")) + "\n"
    with open(Path(job_dir) / EVENTS, "a", encoding="utf-8") as f:
        f.write(line)


def read(job_dir, offset=0):
    """(events after byte `offset`, the offset after the last complete line)."""
    path = Path(job_dir) / EVENTS
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    lines = chunk[:end].decode("utf-8").splitlines()
    return [json.loads(line) for line in lines if line], offset + end


def begun(job_dir):
    """Has a worker begun this training (an attempt started)?"""
    try:
        with open(Path(job_dir) / EVENTS, "rb") as f:
            return b'"kind":"begin"' in f.read(4096)  # a begin is the first thing a worker writes
    except FileNotFoundError:
        return False


def ended(job_dir):
    """Is the last thing in the job's log its end?"""
    try:
        with open(Path(job_dir) / EVENTS, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - 65536))
            lines = f.read().rstrip(b"\n").rsplit(b"\n", 1)
    except FileNotFoundError:
        return False
    return lines[-1].startswith(b'{"kind":"end"')


def last_written(job_dir):
    """When the job folder's log (or its spec, before any event) was last written: wall-clock seconds."""
    for name in (EVENTS, SPEC):
        try:
            return (Path(job_dir) / name).stat().st_mtime
        except FileNotFoundError:
            pass
    return 0.0


@dataclass
class Follower:
    """A Progress kept up to date from one job's log; update() reads only what was appended since."""

    job_dir: str
    offset: int = 0
    attempts: int = 0
    progress: ev.Progress = field(default_factory=ev.Progress)

    def update(self) -> ev.Progress:
        events, self.offset = read(self.job_dir, self.offset)
        for e in events:
            fold(self, e)
        self.progress.now = time.time()
        return self.progress


def fold(f: Follower, e):
    """Apply one event to the follower's Progress."""
    kind, p = e["kind"], f.progress
    if kind == "begin":  # what an earlier attempt logged stays until this one says whether it resumes
        f.attempts += 1
        sizes = dict(max_epochs=e["max_epochs"], batch_size=e["batch_size"])
        fresh = ev.Progress(state="loading", dataset=e["dataset"], attempt=f.attempts, **sizes)
        f.progress = fresh if f.attempts == 1 else p
        p.state, p.attempt = "loading", f.attempts
        f.progress.message = e.get("message", "")  # what loading means for this kind of training
    elif kind == "resumed":
        resume(p, e["epochs"])
    elif kind == "ready":  # from the start: anything an earlier attempt logged goes
        sizes = dict(max_epochs=p.max_epochs, batch_size=p.batch_size)
        f.progress = p = ev.Progress(dataset=p.dataset, attempt=f.attempts, **sizes)
        keep = ("dataset", "classes", "n_train", "steps_per_epoch", "val_texts", "val_labels")
        for k in keep + ("probe_texts", "probe_tokens"):
            setattr(p, k, e[k])
        p.probe_weights = [arrays(e["probes"])]
        p.state, p.t_start = "training", e["t"]
    elif kind == "steps":
        p.steps += e["losses"]
        p.step_times += e["times"]
    elif kind == "epoch":
        preds = np.asarray(e["preds"], dtype=np.int32)
        p.epochs.append(e["record"])
        p.reports.append(ev.epoch_report(p.val_labels, preds, p.classes))
        p.val_preds.append(preds)
        p.probe_weights.append(arrays(e["probes"]))
        p.t_epoch = e["t"]
    elif kind == "saving":
        p.state, p.best_epoch = "saving", e["best_epoch"]
    elif kind == "end":
        p.state, p.message = e["state"], e["message"]
        p.best_epoch = e.get("best_epoch", p.best_epoch)
        p.run_name, p.run_path = e.get("run_name", ""), e.get("run_path", "")
        if e.get("test"):
            p.test_report = ev.report_from_dict(e["test"], p.classes)
        p.mistakes = e.get("mistakes", [])
        p.val_texts, p.val_labels, p.val_preds = [], [], []  # the page needs them no more: `mistakes` is kept


def resume(p, epochs):
    """An attempt that goes on after `epochs` whole epochs: what the lost one logged after them is dropped."""
    steps = p.epochs[epochs - 1]["step"]
    p.steps, p.step_times = p.steps[:steps], p.step_times[:steps]
    p.epochs, p.reports, p.val_preds = p.epochs[:epochs], p.reports[:epochs], p.val_preds[:epochs]
    p.probe_weights = p.probe_weights[: epochs + 1]  # (0 = before training)
    p.state, p.resumed_from, p.message = "training", epochs, ""


def arrays(probes):
    """Probe attention as read from JSON: per probe, per layer, a float32 (H, T, T) array."""
    return [[np.asarray(w, dtype=np.float32) for w in layers] for layers in probes]

"""What a training shows about itself: per-epoch reports, probe-sentence attention, mistakes, time left.

Pure functions over arrays and reports, which the trainer (attention/app/trainer.py) calls once per
epoch; Progress, what a running job reports; and View, what the Train page draws for a live job
(view_of_job) or a saved run (view_of_run). No Streamlit here.
"""

import math
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import torch

from attention.analysis.sentence import analyze
from attention.app.scope import EXAMPLES
from attention.training.loop import safer_lr
from attention.training.metrics import Report, classification_report

# Fixed sentences whose attention is recorded every epoch, per built-in dataset.
PROBE_TOKENS = (3, 12)  # an upload's probes are validation texts of this many tokens (shortest and longest)
MISTAKES_SHOWN = 200  # rows in the table of misclassified validation texts
ACTIVE = ("queued", "loading", "training", "saving")  # job states in which the thread is still working


def pick_probes(dataset_name, val_texts, tokenizer, k=3):
    """The built-in dataset's probe sentences, or the first k validation texts of a readable length."""
    if dataset_name in EXAMPLES:
        return list(EXAMPLES[dataset_name])
    low, high = PROBE_TOKENS
    picked = list(islice((t for t in val_texts if low <= len(tokenizer.encode(t).ids) <= high), k))
    return picked or list(islice((t for t in val_texts if tokenizer.encode(t).ids), k))  # stop after k


def probe_attention(model, tokenizer, texts):
    """Per probe, (tokens, per-layer (H, T, T) float32 weights), in eval mode; the model's mode is restored."""
    was_training = model.training
    model.eval()
    try:
        out = []
        for text in texts:
            a = analyze(model, tokenizer, text)
            out.append((a.tokens, [w.round(4) for w in a.weights]))
        return out
    finally:
        model.train(was_training)


def epoch_report(labels, preds, classes) -> Report:
    """Per-class precision/recall/F1 and the confusion matrix of one validation pass."""
    preds = preds.tolist() if isinstance(preds, torch.Tensor | np.ndarray) else list(preds)
    return classification_report(list(labels), preds, classes)


def report_from_dict(d, classes) -> Report:
    """Rebuild a Report from a saved metrics.json entry (per_class rows + confusion)."""
    rows = [r for r in d["per_class"] if r["cls"] != "macro avg"]
    col = lambda key: np.array([r[key] for r in rows], dtype=np.float64)
    return Report(list(classes), np.asarray(d["confusion"]), col("precision"), col("recall"), col("f1"), col("support"))


def mistakes(texts, labels, preds, classes, limit=MISTAKES_SHOWN):
    """The misclassified texts as rows {text, true, predicted}, at most `limit`."""
    rows = []
    for text, y, p in zip(texts, labels, preds):
        if int(y) != int(p):
            rows.append(dict(text=text, true=classes[int(y)], predicted=classes[int(p)]))
            if len(rows) >= limit:
                break
    return rows


def blown_up(losses, num_classes, lr, window=50, factor=10, min_steps=10):
    """A message if the recent train loss is far above guessing's (ln C), else "". fit itself catches NaN.

    AdamW with gradient clipping rarely reaches NaN: a too-large learning rate makes the loss
    jump to hundreds and stay there instead, which is divergence all the same.
    """
    guess = math.log(max(num_classes, 2))
    if len(losses) < min_steps:
        return ""
    window = min(window, len(losses))
    recent = sum(losses[-window:]) / window
    if recent <= factor * guess:
        return ""
    return (
        f"Training diverged: over the last {window} steps the loss averaged {recent:,.1f}, while a model that "
        f"guesses scores {guess:.2f} (learning rate {lr:g}). It did not become NaN, but it would not recover. "
        f"Try a learning rate of {safer_lr(lr):g}. Nothing was saved."
    )


def seconds_left(epochs_done, epochs_total, steps_done, steps_total, elapsed, epoch_elapsed):
    """Time left: from the mean epoch once one has ended, from the step rate before that. None = unknown.

    elapsed: seconds since training started; epoch_elapsed: seconds until the last epoch ended.
    """
    if epochs_done:
        per_epoch = epoch_elapsed / epochs_done
        return max(per_epoch * epochs_total - elapsed, 0.0)
    if steps_done:
        return max(elapsed / steps_done * steps_total - elapsed, 0.0)
    return None


def duration(seconds):
    """'42 s', '3 min 5 s'."""
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"


def throughput(step_times, samples_per_step, window=2.0):
    """Samples per second over the last `window` seconds of steps (step_times from a monotonic clock)."""
    if len(step_times) < 2:
        return None
    end = step_times[-1]
    first = next(i for i, t in enumerate(step_times) if t >= end - window)
    first = min(first, len(step_times) - 2)
    secs = end - step_times[first]
    return samples_per_step * (len(step_times) - 1 - first) / secs if secs > 0 else None


def probes_to_json(texts, tokens, per_epoch):
    """Probe attention for history.json: per epoch, per probe, per layer (H, T, T) nested lists."""
    return dict(
        texts=list(texts),
        tokens=[list(t) for t in tokens],
        epochs=[[[w.tolist() for w in layers] for layers in probes] for probes in per_epoch],
    )


def probes_from_json(d):
    """(texts, tokens, per-epoch weights) from history.json's 'probes', arrays as float32."""
    epochs = [[[np.asarray(w, np.float32) for w in layers] for layers in probes] for probes in d.get("epochs", [])]
    return d.get("texts", []), d.get("tokens", []), epochs


@dataclass
class Progress:
    """Everything a page draws about a job; snapshot() hands out copies."""

    state: str = "queued"  # queued | loading | training | saving | done | stopped | failed
    message: str = ""  # why it failed, or a note about what was saved
    notice: str = ""  # what the engine says about a running training (its worker was lost)
    attempt: int = 0  # 1 = the first; more when a lost worker's training started again
    resumed_from: int = 0  # the epoch after which the latest attempt went on (0 = from the start)
    queue_position: int = 0
    dataset: str = ""
    classes: list = field(default_factory=list)
    n_train: int = 0
    steps_per_epoch: int = 0
    max_epochs: int = 0
    batch_size: int = 0
    steps: list = field(default_factory=list)  # train loss per step
    step_times: list = field(default_factory=list)  # wall-clock time of every step (the worker's time.time())
    epochs: list = field(default_factory=list)  # fit's per-epoch records
    reports: list = field(default_factory=list)  # per epoch, the validation Report
    val_preds: list = field(default_factory=list)  # per epoch, (N,) int array; emptied once saved
    val_texts: list = field(default_factory=list)  # emptied once saved, like val_labels: `mistakes` is kept
    val_labels: list = field(default_factory=list)
    mistakes: list = field(default_factory=list)  # the kept epoch's misclassified texts, once saved
    probe_texts: list = field(default_factory=list)
    probe_tokens: list = field(default_factory=list)
    probe_weights: list = field(default_factory=list)  # per epoch (0 = before training), per probe, per layer
    t_start: float = 0.0  # training started (wall clock); 0 = not yet
    t_epoch: float = 0.0  # the last epoch ended
    now: float = 0.0  # when the snapshot was taken
    best_epoch: int | None = None
    test_report: object = None  # Report on test, at the end
    run_path: str = ""  # the saved run folder
    run_name: str = ""

    @property
    def active(self):
        return self.state in ACTIVE

    @property
    def history(self):
        """The shape attention.line_charts.curves() expects."""
        return dict(epochs=self.epochs, steps=self.steps)

    @property
    def fraction(self):
        total = self.steps_per_epoch * self.max_epochs
        return min(len(self.steps) / total, 1.0) if total else 0.0

    def seconds_left(self):
        if not self.t_start or not self.active:
            return None
        return seconds_left(
            len(self.epochs),
            self.max_epochs,
            len(self.steps),
            self.steps_per_epoch * self.max_epochs,
            self.now - self.t_start,
            self.t_epoch - self.t_start,
        )

    def samples_per_s(self):
        return throughput(self.step_times, self.batch_size)

    def progress_text(self):
        """'epoch 4 of at most 6 (3 done) · about 25 s left · 3,512 samples/s'."""
        done, left, speed = len(self.epochs), self.seconds_left(), self.samples_per_s()
        text = [f"epoch {min(done + 1, self.max_epochs)} of at most {self.max_epochs} ({done} done)"]
        text += [f"about {duration(left)} left" if left is not None else "estimating time left"]
        text += [f"{speed:,.0f} samples/s" if speed else ""]
        text += ["saving the run…" if self.state == "saving" else ""]
        return " · ".join(t for t in text if t)


def stop_note(history, epochs, n_train, batch_size):
    """One sentence on how training ended and which weights were kept."""
    best = history["best_epoch"]
    last = epochs[-1]
    if history["stopped"] == "user" and last["partial"] and len(epochs) == 1:
        seen = min(last["step"] * batch_size, n_train)
        return (
            f"Stopped during epoch 1: the saved model has seen only {seen:,} of {n_train:,} training texts "
            "once, so expect it to be weak."
        )
    how = dict(user="Stopped by you", early_stopping="Stopped early (validation loss stopped improving)")
    part = " (partly trained)" if epochs[best - 1]["partial"] else ""
    return f"{how.get(history['stopped'], 'Finished')} after {len(epochs)} epochs; kept epoch {best}{part}."


@dataclass
class View:
    """What the Train page draws for one training, live or saved: curves, reports, mistakes, probes."""

    classes: list
    history: dict  # {"epochs": [...], "steps": [...]}, as attention.line_charts.curves() reads it
    reports: dict  # {"validation": Report, "test": Report}; test only once training ended
    report_epoch: int | None  # the epoch the validation report comes from
    mistakes: list  # misclassified validation texts, {text, true, predicted}
    probe_texts: list
    probe_tokens: list
    probe_weights: list  # per epoch (0 = before training), per probe, per layer (H, T, T)
    run_name: str = ""  # the saved run folder; "" while training
    steps_per_epoch: int | None = None
    max_epochs: int | None = None
    frozen: bool = False  # a head on the frozen pretrained encoder: its attention never changes in training


def view_of_job(p: Progress) -> View:
    """A live job: the latest epoch's validation report while training, the kept (best) epoch once saved."""
    reports, epoch = {}, None
    if p.reports:
        epoch = p.best_epoch if p.run_name and p.best_epoch else len(p.reports)
        reports["validation"] = p.reports[epoch - 1]
    if p.test_report is not None:
        reports["test"] = p.test_report
    wrong = p.mistakes  # saved: the kept epoch's, computed once (the validation texts are let go)
    if epoch and not p.run_name:
        wrong = mistakes(p.val_texts, p.val_labels, p.val_preds[epoch - 1], p.classes)
    probes = dict(probe_texts=p.probe_texts, probe_tokens=p.probe_tokens, probe_weights=p.probe_weights)
    return View(
        classes=p.classes,
        history=p.history,
        reports=reports,
        report_epoch=epoch,
        mistakes=wrong,
        **probes,
        run_name=p.run_name,
        steps_per_epoch=p.steps_per_epoch,
        max_epochs=p.max_epochs,
    )


def view_of_run(config, history, metrics, folder) -> View:
    """A saved run, from its config.json, history.json and metrics.json."""
    classes = config.get("classes", [])
    names = dict(validation="val", test="test")
    reports = {k: report_from_dict(metrics[v], classes) for k, v in names.items() if v in metrics}
    texts, tokens, weights = probes_from_json(history.get("probes", {}))
    return View(
        classes=classes,
        history=dict(epochs=[], steps=[]) | history,  # a run saved without a training history draws empty curves
        reports=reports,
        report_epoch=history.get("best_epoch"),
        mistakes=metrics.get("misclassified", []),
        probe_texts=texts,
        probe_tokens=tokens,
        probe_weights=weights,
        run_name=folder,
        frozen=bool(config.get("encoder")),
    )

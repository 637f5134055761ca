"""A classifier on frozen MiniLM as the engine runs it: the Train page's second kind of training.

MiniLM reads every text once (the embeddings are cached per dataset under the job's cache folder, so a second
training on the same data starts at once), then a linear head trains on them full batch, one step per epoch,
logging the same events as a small model's training (attention/app/trainer.py): the same live curves,
confusion matrix and saved run follow. The encoder does not change, so there are no probe heads to record.
"""

import time

from attention.app import progress as ev
from attention.app import runlog
from attention.app.runstore import save_new_run
from attention.data.registry import load_dataset
from attention.training.checkpoints import MINILM  # a spec's model {"encoder": MINILM}, as a run's config says
from attention.training.embeddings import embed_splits, head_history, head_meta, head_metrics, head_model, train_head

READING = "MiniLM is reading every text once (about 5 ms a text here; kept for later trainings on this data)…"


def is_head_job(spec) -> bool:
    return spec["model"].get("encoder") == MINILM


def train_on_minilm(job_dir, spec):
    """The whole training: load, embed, train with live events, save the run, log its end."""
    cfg = spec["train"]
    dataset = spec.get("upload") or load_dataset(spec["dataset"], seed=cfg.seed)
    n = len(dataset.train.texts)
    runlog.append(job_dir, "begin", dataset=dataset.name, max_epochs=cfg.epochs, batch_size=n, message=READING)
    cache = job_dir if spec.get("upload") else spec["cache"]  # an upload's embeddings stay with its owner's job
    x, embed_s = embed_splits(dataset, cache)
    val_texts, val_labels = list(dataset.val.texts), list(dataset.val.labels)
    runlog.append(
        job_dir,
        "ready",
        dataset=dataset.name,
        classes=list(dataset.classes),
        n_train=n,
        steps_per_epoch=1,
        val_texts=val_texts,
        val_labels=val_labels,
        probe_texts=[],
        probe_tokens=[],
        probes=[],
    )
    log_epoch = lambda record, preds: _log_epoch(job_dir, record, preds)
    stop = lambda: (job_dir / runlog.STOP).exists()
    y = dataset.train.labels, dataset.val.labels
    head, records = train_head(
        x["train"], y[0], x["val"], y[1], len(dataset.classes), cfg.lr, cfg.epochs, cfg.patience, cfg.seed,
        on_epoch=log_epoch, stop=stop,
    )  # fmt: skip
    stopped = "user" if stop() else None
    history = head_history(records, cfg.epochs, embed_s, stopped)
    runlog.append(job_dir, "saving", best_epoch=history["best_epoch"])
    metrics, val_preds = head_metrics(head, x, dataset)
    wrong = ev.mistakes(val_texts, val_labels, val_preds, dataset.classes)
    model, pieces = head_model(head, dataset.classes)
    note = ev.stop_note(history, records, n, n)
    meta = head_meta(f"MiniLM · {dataset.name}", dataset.name, head, cfg.lr, cfg.epochs, cfg.seed)
    meta.update(created=time.strftime("%Y-%m-%d %H:%M:%S"), note=note)
    own_val = dict(texts=val_texts, labels=val_labels) if spec.get("upload") is not None else None
    args = (model, pieces, dataset.classes, meta, history, dict(metrics, misclassified=wrong), own_val)
    path = save_new_run(spec["runs_dir"], f"minilm-{dataset.name}", *args)
    best = history["best_epoch"]
    end = dict(best_epoch=best, run_name=path.name, run_path=str(path), test=metrics["test"], mistakes=wrong)
    runlog.append(job_dir, "end", state="stopped" if stopped else "done", message=note, **end)


def _log_epoch(job_dir, record, preds):
    runlog.append(job_dir, "steps", losses=[record["train_loss"]], times=[time.time()])
    runlog.append(job_dir, "epoch", record=record, preds=preds.tolist(), probes=[])

"""A generic training loop with events, and the CLI that trains the shipped models.

python -m attention.training.loop --dataset tweets --heads 4 --out models/tweets-4h
"""

import argparse
import copy
import math
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from tqdm import tqdm

from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.data.batching import Encoded, batches, encode
from attention.data.registry import load_dataset
from attention.training.checkpoints import save_run
from attention.training.fit_state import FitState
from attention.training.metrics import classification_report


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # upper bound; early stopping usually ends sooner
    batch_size: int = 64
    lr: float = 2e-3  # AdamW learning rate
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # max gradient norm
    patience: int = 2  # epochs without a better validation loss before stopping
    seed: int = 0
    max_len: int = 128  # tokens kept per text; longer texts are truncated (and counted)
    min_freq: int = 2  # words seen fewer times in training become <unk>


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; .history holds what was recorded before."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


@dataclass
class Prepared:
    tokenizer: Tokenizer
    classes: list[str]
    train: Encoded
    val: Encoded
    test: Encoded
    texts: dict = field(default_factory=dict)  # split name -> raw texts, for tables of mistakes


def prepare(dataset, cfg: TrainConfig) -> Prepared:
    """Build the vocabulary on the training texts and encode every split."""
    tok = Tokenizer.build(dataset.train.texts, min_freq=cfg.min_freq)
    splits = {s: getattr(dataset, s) for s in ("train", "val", "test")}
    enc = {s: encode(tok, split, cfg.max_len) for s, split in splits.items()}
    return Prepared(tok, list(dataset.classes), **enc, texts={s: split.texts for s, split in splits.items()})


def forward(model, ids, kpm, need_weights=False):
    """Run the model with the masks it was configured to train with."""
    cfg = model.cfg
    return model(ids, kpm if cfg.pad_mask else None, is_causal=cfg.causal, need_weights=need_weights)


@torch.inference_mode()
def evaluate(model, data: Encoded, batch_size=256):
    """Mean loss, accuracy and predictions (N,) on a split, in eval mode."""
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    for ids, kpm, y in batches(data, batch_size):
        logits, _ = forward(model, ids, kpm)
        total += F.cross_entropy(logits, y, reduction="sum").item()
        preds.append(logits.argmax(-1))
    model.train(was_training)
    preds = torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)
    n = max(len(data), 1)
    return total / n, (preds == data.labels).float().mean().item() if len(data) else 0.0, preds


def safer_lr(lr, usual=1e-2):
    """A learning rate to try after `lr` diverged: 10x smaller, and never above the range that usually works."""
    return min(lr / 10, usual)


def fit(
    model,
    data: Prepared,
    cfg: TrainConfig,
    on_step=None,
    on_epoch=None,
    should_stop=None,
    on_eval=None,
    on_checkpoint=None,
    resume: FitState | None = None,
):
    """Train with AdamW and early stopping on validation loss; the best weights are loaded at the end.

    on_step(step, loss) after every batch; on_epoch(record) after every epoch;
    should_stop() polled every batch. on_eval(record, preds) gets each epoch's (N,) validation
    predictions from the same pass that gave val_loss, before on_epoch. on_checkpoint(FitState) after
    every whole epoch (not one a stop cut short); fit(..., resume=that state) on a fresh model of the same
    spec continues from the next epoch and ends with the same weights, bit for bit, as a training never
    interrupted. Returns the history dict. Raises TrainingDiverged.
    """
    # Long on purpose (as nanoGPT's loop): one epoch reads top to bottom, batches, checks, record, early stop.
    gen = torch.Generator().manual_seed(cfg.seed)  # this training's own: batch order and dropout
    model.use_generator(gen)  # (torch's global generator is shared with every other training in the process)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history = dict(epochs=[], steps=[], best_epoch=None, stopped="completed", train_config=asdict(cfg))
    best_loss, best_state, bad_epochs, step, first = math.inf, None, 0, 0, 1
    if resume is not None:  # where the state was taken: weights, AdamW's moments, the generator, the bookkeeping
        resume.restore(model, opt, gen)
        history, best_loss, best_state = copy.deepcopy(resume.history), resume.best_loss, resume.best_state
        bad_epochs, step = resume.bad_epochs, resume.step
        first = cfg.epochs + 1 if history["stopped"] == "early_stopping" else resume.epoch + 1
    for epoch in range(first, cfg.epochs + 1):
        model.train()
        t0, seen, correct, total_loss = time.perf_counter(), 0, 0, 0.0
        for ids, kpm, y in batches(data.train, cfg.batch_size, gen):
            if should_stop and should_stop():
                history["stopped"] = "user"
                break
            logits, _ = forward(model, ids, kpm)
            loss = F.cross_entropy(logits, y)
            if not torch.isfinite(loss):
                msg = (
                    f"Training stopped: the loss became {loss.item()} at epoch {epoch}, step {step + 1} "
                    f"(learning rate {cfg.lr:g}). Try a learning rate of {safer_lr(cfg.lr):g}."
                )
                raise TrainingDiverged(msg, history)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step += 1
            seen += len(y)
            correct += (logits.argmax(-1) == y).sum().item()
            total_loss += loss.item() * len(y)
            history["steps"].append(loss.item())
            if on_step:
                on_step(step, loss.item())
        if seen == 0:
            break
        val_loss, val_acc, val_preds = evaluate(model, data.val)
        secs = time.perf_counter() - t0
        record = dict(
            epoch=epoch,
            step=step,
            train_loss=total_loss / seen,
            train_acc=correct / seen,
            val_loss=val_loss,
            val_acc=val_acc,
            seconds=secs,
            samples_per_s=seen / secs,
            partial=history["stopped"] == "user",
        )
        history["epochs"].append(record)
        if val_loss < best_loss:
            best_loss, bad_epochs, history["best_epoch"] = val_loss, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
        if on_eval:
            on_eval(record, val_preds)
        if on_epoch:
            on_epoch(record)
        if history["stopped"] == "user":
            break
        if bad_epochs >= cfg.patience and epoch < cfg.epochs:  # at the last epoch it simply finished
            history["stopped"] = "early_stopping"
        if on_checkpoint:
            bookkeeping = dict(best_loss=best_loss, best_state=best_state, bad_epochs=bad_epochs, step=step)
            on_checkpoint(FitState.capture(model, opt, gen, history, epoch=epoch, **bookkeeping))
        if history["stopped"] == "early_stopping":
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.use_generator(None)
    model.eval()
    return history


def final_reports(model, data: Prepared):
    """Validation and test reports of a trained model: {split: (Report, loss)}. Every way of training (command
    line, Train page, experiment) ends here, so the numbers a run saves are computed one way."""
    out = {}
    for split in ("val", "test"):
        enc = getattr(data, split)
        loss, _, preds = evaluate(model, enc)
        out[split] = classification_report(enc.labels.tolist(), preds.tolist(), data.classes), loss
    return out


def final_metrics(reports):
    """The final reports as JSON-ready dicts (a run's metrics.json)."""
    return {split: rep.to_dict(loss) for split, (rep, loss) in reports.items()}


def build_model(data: Prepared, model_kw, cfg: TrainConfig) -> AttentionClassifier:
    """A fresh model sized for the prepared data, its weights drawn from a generator seeded with cfg.seed."""
    model_cfg = ModelConfig(len(data.tokenizer), len(data.classes), max_len=cfg.max_len, **model_kw)
    return AttentionClassifier(model_cfg, torch.Generator().manual_seed(cfg.seed))


def train_run(dataset_name, model_kw, cfg: TrainConfig, out, name=None, dataset=None, **events):
    """Load data, train, evaluate and save a run folder at `out`. Returns (model, data, history, metrics)."""
    dataset = dataset or load_dataset(dataset_name, seed=cfg.seed)
    data = prepare(dataset, cfg)
    model = build_model(data, model_kw, cfg)
    history = fit(model, data, cfg, **events)
    metrics = final_metrics(final_reports(model, data))
    meta = dict(name=name or str(out), dataset=dataset.name, train=asdict(cfg), parameters=model.num_parameters())
    save_run(out, model, data.tokenizer, data.classes, meta, history, metrics)
    return model, data, history, metrics


def main(argv=None):
    p = argparse.ArgumentParser(description="Train an attention classifier and save it as a run folder.")
    p.add_argument("--dataset", default="tweets")
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--d-ff", type=int, default=0)
    p.add_argument("--positional", default="sinusoidal", choices=["sinusoidal", "learned", "none"])
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--no-pad-mask", action="store_true", help="train without masking <pad> keys")
    p.add_argument("--causal", action="store_true", help="train with the causal (look-ahead) mask")
    for f in TrainConfig.__dataclass_fields__.values():
        p.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    p.add_argument("--out", required=True, help="run folder to write, e.g. models/tweets-4h")
    p.add_argument("--name", default=None)
    a = p.parse_args(argv)
    cfg = TrainConfig(**{f: getattr(a, f) for f in TrainConfig.__dataclass_fields__})
    model_kw = dict(d_model=a.d_model, num_heads=a.heads, num_layers=a.layers, d_ff=a.d_ff, positional=a.positional)
    model_kw.update(dropout=a.dropout, pad_mask=not a.no_pad_mask, causal=a.causal)
    bar = tqdm(desc="training", unit="step")
    on_step = lambda step, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.3f}"))
    on_epoch = lambda r: tqdm.write(
        f"epoch {r['epoch']}: train loss {r['train_loss']:.3f}, val loss {r['val_loss']:.3f}, "
        f"val acc {r['val_acc']:.3f}, {r['samples_per_s']:.0f} samples/s"
    )
    _, _, history, metrics = train_run(a.dataset, model_kw, cfg, a.out, a.name, on_step=on_step, on_epoch=on_epoch)
    bar.close()
    t = metrics["test"]
    print(
        f"best epoch {history['best_epoch']} ({history['stopped']}); "
        f"test accuracy {t['accuracy']:.4f}, macro-F1 {t['macro_f1']:.4f}"
    )
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()

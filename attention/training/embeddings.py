"""A classifier on top of the frozen pretrained encoder: sentence embeddings computed once and kept on disk, then a
linear head that trains on them in seconds (attention.core.bert.BertClassifier puts the two together).

    python -m attention.training.embeddings --dataset tweets --out models/minilm-tweets   # embed (cached), train
"""

import argparse
import hashlib
import time
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from attention.core.model import AttentionClassifier
from attention.core.tokenizer import PAD_ID
from attention.data.batching import pad_batch

MAX_LEN = 128  # pieces per text when embedding: what sentence-transformers trained MiniLM on


@torch.no_grad()  # not inference_mode: the head trains on these tensors
def embed(encoder, pieces, texts, batch_size=64, max_len=MAX_LEN) -> torch.Tensor:
    """(N, D): the last layer's mean over each text's real pieces. Texts run sorted by length, so a batch carries
    little padding (padded to 128 every time, the tweets took 7 minutes; sorted, a fraction of that)."""
    assert pieces.pad_id == PAD_ID, "pad_batch pads with PAD_ID"
    ids = [pieces.encode(t, max_len).ids for t in texts]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = torch.empty(len(ids), encoder.cfg.d_model)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch, pad = pad_batch([torch.tensor(ids[i]) for i in idx])
        hidden, _ = encoder(batch, key_padding_mask=pad, need_weights=False)
        out[idx] = AttentionClassifier.pool(hidden[-1], pad)
    return out


def cached_embed(encoder, pieces, texts, cache_dir, max_len=MAX_LEN) -> torch.Tensor:
    """embed(), kept in cache_dir under a hash of the texts (never a name a person typed); computed once."""
    digest = hashlib.sha256("\n\0".join([str(max_len), *texts]).encode("utf-8")).hexdigest()[:32]
    path = Path(cache_dir) / f"minilm-{digest}.safetensors"
    if path.is_file():
        return load_file(path)["embeddings"]
    x = embed(encoder, pieces, texts, max_len=max_len)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({"embeddings": x.contiguous()}, tmp)
    tmp.replace(path)  # whole or not at all
    return x


def train_head(
    x_train, y_train, x_val, y_val, num_classes, lr=3e-2, epochs=1000, patience=30, seed=0, on_epoch=None, stop=None
):
    """A linear head by full-batch AdamW on cross-entropy; kept: the epoch with the lowest validation loss.
    on_epoch(record, val_preds) after every epoch; stop() -> True ends training after the current epoch.

    Returns (head, records: one dict per epoch, as fit's: epoch, step, train/val loss and accuracy, seconds...)."""
    gen = torch.Generator().manual_seed(seed)
    head = nn.Linear(x_train.size(1), num_classes)
    with torch.no_grad():
        nn.init.normal_(head.weight, std=0.01, generator=gen)
        head.bias.zero_()
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    y_train, y_val = torch.as_tensor(y_train), torch.as_tensor(y_val)
    best, best_epoch, best_state, records = float("inf"), 0, None, []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        logits = head(x_train)
        loss = nn.functional.cross_entropy(logits, y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            val_logits = head(x_val)
            val = nn.functional.cross_entropy(val_logits, y_val).item()
            preds = val_logits.argmax(-1)
        secs = time.perf_counter() - t0
        records.append(
            dict(
                epoch=epoch + 1,
                step=epoch + 1,  # full batch: one step per epoch
                train_loss=loss.item(),
                train_acc=(logits.argmax(-1) == y_train).float().mean().item(),
                val_loss=val,
                val_acc=(preds == y_val).float().mean().item(),
                seconds=secs,
                samples_per_s=len(y_train) / max(secs, 1e-9),
                partial=False,
            )
        )
        if on_epoch:
            on_epoch(records[-1], preds.numpy())
        if val < best:
            best, best_epoch, best_state = val, epoch, {k: v.clone() for k, v in head.state_dict().items()}
        if epoch - best_epoch >= patience or (stop and stop()):
            break
    head.load_state_dict(best_state)
    return head, records


def embed_splits(dataset, cache_dir):
    """(every split's embeddings {train, val, test}, seconds it took): MiniLM reads each text once per cache."""
    from attention.data.pretrained import load_minilm

    encoder, pieces = load_minilm()
    t0 = time.perf_counter()
    x = {k: cached_embed(encoder, pieces, getattr(dataset, k).texts, cache_dir) for k in ("train", "val", "test")}
    return x, time.perf_counter() - t0


@torch.no_grad()
def head_metrics(head, x, dataset):
    """(metrics.json's val and test reports, the validation predictions) of a trained head."""
    from attention.training.metrics import classification_report

    metrics, preds = {}, {}
    for split in ("val", "test"):
        logits, y = head(x[split]), torch.as_tensor(getattr(dataset, split).labels)
        preds[split] = logits.argmax(-1)
        rep = classification_report(y.tolist(), preds[split].tolist(), dataset.classes)
        metrics[split] = rep.to_dict(nn.functional.cross_entropy(logits, y).item())
    return metrics, preds["val"].numpy()


def head_history(records, epochs, embed_s, stopped=None):
    """history.json of a head: fit's shape (epochs, steps, best_epoch, stopped), and how long embedding took."""
    return dict(
        epochs=records,
        steps=[r["train_loss"] for r in records],
        best_epoch=min(records, key=lambda r: r["val_loss"])["epoch"],
        stopped=stopped or ("early_stopping" if len(records) < epochs else "budget"),
        embed_seconds=round(embed_s, 1),
    )


def head_model(head, classes):
    """The head on the process's one MiniLM, as a BertClassifier that save_run stores (head weights only)."""
    from attention.core.bert import BertClassifier
    from attention.data.pretrained import load_minilm

    encoder, pieces = load_minilm()
    model = BertClassifier(encoder, len(classes), pieces.pad_id)
    model.head.load_state_dict(head.state_dict())
    return model, pieces


def head_meta(name, dataset, head, lr, epochs, seed):
    train = dict(encoder="frozen", pooling="mean", head="linear", lr=lr, epochs=epochs, optimizer="AdamW, full batch")
    return dict(
        name=name, dataset=dataset, train=dict(train, seed=seed), parameters=sum(p.numel() for p in head.parameters())
    )


def head_run(dataset, out, name, cache_dir, lr=3e-2, epochs=1000, seed=0):
    """Embed a TextDataset's splits (cached), train a head, evaluate it and save it as a run folder at `out` that
    load_run reads like any other. Returns (model, history, metrics) in the small models' formats."""
    from attention.training.checkpoints import save_run

    x, embed_s = embed_splits(dataset, cache_dir)
    y = dataset.train.labels, dataset.val.labels
    head, records = train_head(x["train"], y[0], x["val"], y[1], len(dataset.classes), lr, epochs, seed=seed)
    metrics, _ = head_metrics(head, x, dataset)
    history = head_history(records, epochs, embed_s)
    model, pieces = head_model(head, dataset.classes)
    save_run(
        out, model, pieces, dataset.classes, head_meta(name, dataset.name, head, lr, epochs, seed), history, metrics
    )
    return model, history, metrics


def main(argv=None):
    from attention.data.registry import load_dataset

    ap = argparse.ArgumentParser(prog="python -m attention.training.embeddings")
    ap.add_argument("--dataset", default="tweets")
    ap.add_argument("--cache", type=Path, default=Path("runs/.cache"))
    ap.add_argument("--out", type=Path, required=True, help="run folder to write, e.g. models/minilm-tweets")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    _, history, metrics = head_run(load_dataset(args.dataset), args.out, f"MiniLM · {args.dataset}", args.cache)
    best, test = history["epochs"][history["best_epoch"] - 1], metrics["test"]
    print(
        f"{args.dataset}: embedded in {history['embed_seconds']:.0f} s, head trained {len(history['epochs'])} epochs "
        f"(best {history['best_epoch']}); val acc {best['val_acc']:.3f}, test acc {test['accuracy']:.3f}, "
        f"macro-F1 {test['macro_f1']:.3f}; {time.perf_counter() - t0:.0f} s in all"
    )


if __name__ == "__main__":
    main()

"""A classifier on top of the frozen pretrained encoder: sentence embeddings computed once and kept on disk, then a
linear head that trains on them in seconds (attention.core.bert.BertClassifier puts the two together).

    python -m attention.training.embeddings --dataset tweets     # embed (cached), train the head, report
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


def train_head(x_train, y_train, x_val, y_val, num_classes, lr=1e-2, epochs=300, patience=30, seed=0):
    """A linear head by full-batch AdamW on cross-entropy; kept: the epoch with the lowest validation loss.

    Returns (head, history: one dict per epoch with train_loss, val_loss, val_acc)."""
    gen = torch.Generator().manual_seed(seed)
    head = nn.Linear(x_train.size(1), num_classes)
    with torch.no_grad():
        nn.init.normal_(head.weight, std=0.01, generator=gen)
        head.bias.zero_()
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    y_train, y_val = torch.as_tensor(y_train), torch.as_tensor(y_val)
    best, best_epoch, best_state, history = float("inf"), 0, None, []
    for epoch in range(epochs):
        loss = nn.functional.cross_entropy(head(x_train), y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            logits = head(x_val)
            val = nn.functional.cross_entropy(logits, y_val).item()
            acc = (logits.argmax(-1) == y_val).float().mean().item()
        history.append(dict(train_loss=loss.item(), val_loss=val, val_acc=acc))
        if val < best:
            best, best_epoch, best_state = val, epoch, {k: v.clone() for k, v in head.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    head.load_state_dict(best_state)
    return head, history


def main(argv=None):
    from attention.data.pretrained import load_minilm
    from attention.data.registry import load_dataset

    ap = argparse.ArgumentParser(prog="python -m attention.training.embeddings")
    ap.add_argument("--dataset", default="tweets")
    ap.add_argument("--cache", type=Path, default=Path("runs/.cache"))
    args = ap.parse_args(argv)
    encoder, pieces = load_minilm()
    ds = load_dataset(args.dataset)
    t0 = time.perf_counter()
    x = {k: cached_embed(encoder, pieces, getattr(ds, k).texts, args.cache) for k in ("train", "val", "test")}
    print(f"embedded {sum(map(len, x.values())):,} texts in {time.perf_counter() - t0:.0f} s (cached after)")
    head, history = train_head(x["train"], ds.train.labels, x["val"], ds.val.labels, len(ds.classes))
    with torch.no_grad():
        test = (head(x["test"]).argmax(-1) == torch.as_tensor(ds.test.labels)).float().mean().item()
    best = min(history, key=lambda h: h["val_loss"])
    print(f"{args.dataset}: head trained {len(history)} epochs; val acc {best['val_acc']:.3f}, test acc {test:.3f}")


if __name__ == "__main__":
    main()

"""An on-disk cache of prepared built-in datasets, so a training starts without re-reading and re-encoding the corpus.

An entry is a folder cache_dir/<dataset>-<hash of its key>/, read back without unpickling:
  ids.safetensors   per split: every text's token ids end to end, their lengths, the labels
  vocab.json        the tokenizer (Tokenizer.to_json)
  data.json         the key, classes, description, texts per split and truncation counts
It is built in a temp folder beside it and renamed into place, so a reader sees a whole entry or none.
Only names in DATASETS are cached (never a path made from user text); uploads are prepared every time.
"""

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from attention.core.tokenizer import Tokenizer
from attention.data.batching import Encoded
from attention.data.registry import DATASETS, load_dataset
from attention.data.types import Split, TextDataset
from attention.training.checkpoints import write_atomic, write_json
from attention.training.loop import Prepared, TrainConfig, prepare

log = logging.getLogger(__name__)

VERSION = 1  # bump whenever loading, cleaning, splitting or encoding changes what an entry would hold
SPLITS = ("train", "val", "test")
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError)


def load_prepared(name: str, cfg: TrainConfig, cache_dir, dataset: TextDataset | None = None):
    """(dataset, Prepared) for built-in `name` split with cfg.seed and encoded with cfg, from cache_dir if cached.

    Replaces `load_dataset(name, seed=cfg.seed)` + `prepare(dataset, cfg)`. A given `dataset` (an upload) or a
    name outside DATASETS is prepared without the cache. A missing or unreadable entry is (re)built; a cache that
    cannot be written is only logged. Raises DataError as load_dataset does.
    """
    if dataset is not None or name not in DATASETS:
        dataset = dataset or load_dataset(name, seed=cfg.seed)
        return dataset, prepare(dataset, cfg)
    key = cache_key(name, cfg)
    path = Path(cache_dir) / entry_name(key)
    try:
        return _read(path, key)
    except FileNotFoundError:
        pass
    except _UNREADABLE as e:
        log.warning("prepared-data cache %s is unreadable, rebuilding it: %s", path, e)
    dataset = load_dataset(name, seed=cfg.seed)
    data = prepare(dataset, cfg)
    try:
        _write(path, key, dataset, data)
    except OSError as e:
        log.warning("could not write prepared-data cache %s: %s", path, e)
    return dataset, data


def cache_key(name: str, cfg: TrainConfig) -> dict:
    """Everything that changes what prepare() returns for a built-in dataset."""
    return dict(dataset=name, seed=cfg.seed, max_len=cfg.max_len, min_freq=cfg.min_freq, version=VERSION)


def entry_name(key: dict) -> str:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return f"{key['dataset']}-{digest}"


def _write(path: Path, key: dict, dataset: TextDataset, data: Prepared):
    """Build the entry in a temp folder and rename it into place; a good entry already there is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        tensors = {}
        for s in SPLITS:
            enc = getattr(data, s)
            tensors[f"{s}.ids"] = torch.cat(enc.ids) if len(enc) else torch.empty(0, dtype=torch.long)  # (sum T_i,)
            tensors[f"{s}.lengths"] = torch.tensor([len(x) for x in enc.ids], dtype=torch.long)  # (N,)
            tensors[f"{s}.labels"] = enc.labels.contiguous()  # (N,)
        save_file(tensors, tmp / "ids.safetensors")
        write_atomic(tmp / "vocab.json", data.tokenizer.to_json().encode())
        truncated = {s: getattr(data, s).truncated for s in SPLITS}
        meta = dict(key=key, classes=data.classes, description=dataset.description, truncated=truncated)
        write_json(tmp / "data.json", dict(meta, texts={s: list(data.texts[s]) for s in SPLITS}))
        _swap_in(tmp, path, key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # already gone when it was renamed into place


def _swap_in(tmp: Path, path: Path, key: dict):
    try:
        tmp.replace(path)  # fails if another process put a whole entry there first (or a broken one is there)
        return
    except OSError:
        pass
    try:
        _read(path, key)
        return  # the other process's entry is as good as ours
    except _UNREADABLE:
        pass
    aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old."))
    for src, dst in ((path, aside / "entry"), (tmp, path)):
        try:
            src.replace(dst)
        except OSError:
            pass  # another process is replacing it too; whichever entry wins is whole
    shutil.rmtree(aside, ignore_errors=True)


def _read(path: Path, key: dict) -> tuple[TextDataset, Prepared]:
    """Load and check an entry; raises FileNotFoundError if there is none, another _UNREADABLE error if broken."""
    meta = json.loads((path / "data.json").read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("key") != key:
        raise ValueError("data.json was written for another key")
    tokenizer = Tokenizer.from_json((path / "vocab.json").read_text(encoding="utf-8"))
    tensors = load_file(path / "ids.safetensors")
    classes, texts, description = meta["classes"], meta["texts"], meta["description"]
    if not (_strings(classes) and isinstance(description, str)):
        raise ValueError("classes or description malformed")
    splits, enc = {}, {}
    for s in SPLITS:
        ids, lengths, labels = (tensors[f"{s}.{k}"] for k in ("ids", "lengths", "labels"))
        _check_split(ids, lengths, labels, texts[s], len(tokenizer), len(classes))
        rows = list(torch.split(ids, lengths.tolist()))  # views of one (sum T_i,) tensor: nothing mutates ids
        enc[s] = Encoded(rows, labels, int(meta["truncated"][s]))
        splits[s] = Split(texts[s], labels.tolist())
    dataset = TextDataset(key["dataset"], list(classes), **splits, description=description)
    return dataset, Prepared(tokenizer, list(classes), **enc, texts={s: splits[s].texts for s in SPLITS})


def _strings(xs) -> bool:
    return isinstance(xs, list) and all(isinstance(x, str) for x in xs)


def _check_split(ids, lengths, labels, texts, vocab_size, num_classes):
    """Raise ValueError unless one split's arrays agree with each other, the vocabulary and the classes."""
    if not all(t.dtype == torch.long and t.dim() == 1 for t in (ids, lengths, labels)):
        raise ValueError("arrays must be 1-D int64")
    if not (_strings(texts) and len(texts) == len(lengths) == len(labels)):
        raise ValueError("texts, lengths and labels differ in number")
    if len(lengths) and (lengths.min() < 1 or lengths.sum() != len(ids)):
        raise ValueError("lengths do not add up to the ids")
    if len(ids) and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError("token ids outside the vocabulary")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("labels outside the classes")


# python -m attention.training.prepared DATASET CACHE_DIR: fill the cache ahead of a training (ui/server.py)
if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Prepare a built-in dataset into the cache with the default settings.")
    ap.add_argument("dataset", choices=sorted(DATASETS))
    ap.add_argument("cache_dir", type=Path)
    args = ap.parse_args()
    if hasattr(os, "nice"):
        os.nice(10)  # ahead of need: the server's visitors come first
    load_prepared(args.dataset, TrainConfig(), args.cache_dir)

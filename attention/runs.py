"""Runs on disk: a folder per trained model, written atomically, loaded without unpickling.

A run folder holds config.json (model + training config), model.safetensors,
vocab.json (the tokenizer), history.json and metrics.json.
"""

import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from attention.model import AttentionClassifier, ModelConfig
from attention.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"  # shipped defaults, in git
RUNS_DIR = Path(os.environ.get("ATTENTION_RUNS_DIR", ROOT / "runs"))  # the user's runs
VALIDATION = "validation.json"  # an upload's validation split, kept with its run (never in the zip)


class CheckpointError(ValueError):
    """A run folder that cannot be loaded; the message says which file and why."""


@dataclass
class Run:
    path: Path
    model: AttentionClassifier
    tokenizer: Tokenizer
    classes: list[str]
    meta: dict = field(default_factory=dict)  # dataset, train config, name
    history: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def name(self):
        return self.meta.get("name", self.path.name)


def write_atomic(path: Path, data: bytes):
    """Write to a temp file in the same folder, fsync, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj):
    write_atomic(path, json.dumps(obj, indent=1).encode())


def save_run(path, model, tokenizer, classes, meta=None, history=None, metrics=None, validation=None):
    """Save a run folder. Builds it beside the target and renames it into place, so a crash leaves the old run whole.

    validation: {"texts": [...], "labels": [...]} of a run trained on an upload, so the Heads lab can measure it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        fd, weights = tempfile.mkstemp(dir=tmp)
        os.close(fd)
        save_file(state, weights)
        os.replace(weights, tmp / "model.safetensors")
        config = dict(model=model.cfg.to_dict(), classes=list(classes), **(meta or {}))
        write_json(tmp / "config.json", config)
        write_atomic(tmp / "vocab.json", tokenizer.to_json().encode())
        write_json(tmp / "history.json", history or {})
        write_json(tmp / "metrics.json", metrics or {})
        if validation is not None:
            write_json(tmp / VALIDATION, validation)
        if path.exists():  # swap: old aside, new in, old removed
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _read_json(path: Path):
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path.name} is missing from {path.parent}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path.name} in {path.parent} is not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path.name} in {path.parent} is not a JSON object ({type(obj).__name__})")
    return obj


def load_run(path) -> Run:
    """Load a run folder into an eval-mode model. Never unpickles: weights come from safetensors."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"no run folder at {path}")
    config = _read_json(path / "config.json")
    try:
        cfg = ModelConfig(**config.pop("model"))
        classes = config.pop("classes")
        tokenizer = Tokenizer.from_json((path / "vocab.json").read_text(encoding="utf-8"))
        _check_sizes(cfg, tokenizer, classes)
        model = AttentionClassifier(cfg)  # odd sizes (0 heads, dropout 2) fail here
    except (KeyError, TypeError, ValueError, ArithmeticError, RuntimeError, FileNotFoundError) as e:
        raise CheckpointError(f"config or vocabulary in {path} is unusable: {e}") from None
    try:
        state = load_file(path / "model.safetensors")
        model.load_state_dict(state)
    except FileNotFoundError:
        raise CheckpointError(f"model.safetensors is missing from {path}") from None
    except (SafetensorError, RuntimeError, OSError) as e:
        raise CheckpointError(f"model.safetensors in {path} is corrupt or does not match its config: {e}") from None
    model.eval()
    hist = _read_json(path / "history.json") if (path / "history.json").exists() else {}
    metrics = _read_json(path / "metrics.json") if (path / "metrics.json").exists() else {}
    return Run(path, model, tokenizer, classes, config, hist, metrics)


def _check_sizes(cfg, tokenizer, classes):
    """Raise ValueError unless the vocabulary and class names fit the model (else ids or predictions overflow)."""
    if len(tokenizer) != cfg.vocab_size:
        raise ValueError(f"vocab.json has {len(tokenizer)} words but the model expects {cfg.vocab_size}")
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        raise ValueError("'classes' must be a list of names")
    if len(classes) != cfg.num_classes:
        raise ValueError(f"config.json names {len(classes)} classes but the model has {cfg.num_classes} outputs")


def read_validation(path):
    """The validation split saved with a run trained on an upload, {"texts", "labels"}, or None if there is none."""
    path = Path(path) / VALIDATION
    if not path.exists():
        return None
    split = _read_json(path)
    texts, labels = split.get("texts"), split.get("labels")
    ok = isinstance(texts, list) and isinstance(labels, list) and len(texts) == len(labels)
    if not (ok and all(isinstance(t, str) for t in texts) and all(isinstance(y, int) for y in labels)):
        raise CheckpointError(f"{VALIDATION} in {path.parent} is not a list of texts with one label each")
    return split


def read_config(path) -> dict:
    """A run's config.json alone (cheap: no weights), for pickers and tables."""
    return _read_json(Path(path) / "config.json")


def list_runs(*dirs):
    """Run folders (those with a config.json) under the given directories, sorted by name."""
    dirs = dirs or (MODELS_DIR, RUNS_DIR)
    found = []
    for d in map(Path, dirs):
        if d.is_dir():
            found += sorted(p for p in d.iterdir() if (p / "config.json").is_file() and not p.name.startswith("."))
    return found


# --- the user's run folders: naming, rename, delete, zip, the table of runs ------------------------------------

_SAVE_LOCK = threading.Lock()  # two jobs ending in the same minute must not pick the same folder


def slug(text):
    """A folder-safe version of a dataset name: 'My file.csv' -> 'my-file-csv'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "run"


def save_new_run(runs_dir, base, model, tokenizer, classes, meta, history, metrics, validation=None) -> Path:
    """Save under a new, readable, unique folder: '<base>-YYYYmmdd-HHMM', then '-2', '-3'... if taken."""
    runs_dir = Path(runs_dir or RUNS_DIR)
    stem = f"{slug(base)}-{time.strftime('%Y%m%d-%H%M')}"
    with _SAVE_LOCK:
        path, n = runs_dir / stem, 1
        while path.exists():
            n += 1
            path = runs_dir / f"{stem}-{n}"
        return save_run(path, model, tokenizer, classes, meta, history, metrics, validation)


def is_shipped(path) -> bool:
    return Path(path).resolve().parent == MODELS_DIR.resolve()


def _own_run(path, runs_dir=None) -> Path:
    """The run folder if it is one of the user's runs; raises PermissionError for shipped models or other paths."""
    path, runs_dir = Path(path), Path(runs_dir or RUNS_DIR)
    if is_shipped(path):
        raise PermissionError(f"{path.name} is a shipped model; it cannot be renamed or deleted.")
    if path.resolve().parent != runs_dir.resolve() or not (path / "config.json").is_file():
        raise PermissionError(f"{path} is not a run folder under {runs_dir}.")
    return path


def rename_run(path, name, runs_dir=None):
    """Change a run's display name (config.json 'name'); the folder keeps its name so links stay valid."""
    name = " ".join(str(name).split())[:80]
    if not name:
        raise ValueError("A name needs at least one visible character.")
    path = _own_run(path, runs_dir)
    config = read_config(path)
    config["name"] = name
    write_json(path / "config.json", config)  # atomic: a crash leaves the old config whole


def delete_run(path, runs_dir=None):
    """Delete one of the user's runs: renamed aside first (gone from every list at once), then removed."""
    path = _own_run(path, runs_dir)
    trash = path.with_name(f".{path.name}.deleted-{uuid.uuid4().hex[:6]}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def zip_run(path) -> bytes:
    """The run folder as an in-memory zip, files under '<folder>/'."""
    path = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(path.iterdir()):
            if f.is_file() and not f.name.startswith(".") and f.name != VALIDATION:  # the upload's texts stay here
                z.write(f, f"{path.name}/{f.name}")
    return buf.getvalue()


def runs_table(dirs=None):
    """One row per run folder, the user's newest first, then the shipped ones; unreadable runs say why."""
    rows = []
    for p in list_runs(*(dirs or (MODELS_DIR, RUNS_DIR))):
        row = dict(folder=p.name, name=p.name, dataset="?", **dict.fromkeys(("heads", "layers", "d_model")))
        row.update(test_acc=None, macro_f1=None, created="", ended="", shipped=is_shipped(p), problem="", path=str(p))
        try:
            c = read_config(p)
            row.update(name=c.get("name", p.name), dataset=c.get("dataset", "?"), heads=c["model"]["num_heads"])
            row.update(layers=c["model"].get("num_layers", 1), d_model=c["model"]["d_model"])
            row.update(created=c.get("created", ""), ended=c.get("note", ""))
            test = _read_json(p / "metrics.json").get("test", {})
            row.update(test_acc=test.get("accuracy"), macro_f1=test.get("macro_f1"))
        except (CheckpointError, KeyError, TypeError, OSError, ValueError) as e:
            row["problem"] = row["problem"] or str(e)
        rows.append(row)
    own = sorted((r for r in rows if not r["shipped"]), key=lambda r: (r["created"], r["folder"]), reverse=True)
    rows = own + [r for r in rows if r["shipped"]]
    labels = [run_label(r) for r in rows]
    twice = {lab for lab, n in Counter(labels).items() if n > 1}  # same name, minute and accuracy: add the folder
    for r, lab in zip(rows, labels):
        r["label"] = f"{lab} · {r['folder']}" if lab in twice else lab
    return rows


def run_label(row):
    """How a run is named wherever one is chosen: its display name, then what tells it apart from others.

    'tweets · 4 heads · 79.8% test · 12-02 07:40'; a renamed run also says its dataset and heads.
    """
    name, heads, layers = row["name"], row["heads"], row["layers"]
    parts = [name]
    if row["dataset"] not in name:
        parts.append(row["dataset"])
    if heads is not None and f"{heads} head" not in name:
        parts.append(f"{heads} head{'s' * (heads != 1)}")
    if layers and layers > 1:
        parts.append(f"{layers} layers")
    if row["test_acc"] is not None:
        parts.append(f"{row['test_acc']:.1%} test")
    parts.append("" if row["shipped"] else row["created"][5:16])  # a shipped model: its name says enough
    return " · ".join(p for p in parts if p)

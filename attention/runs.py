"""Runs on disk: a folder per trained model, written atomically, loaded without unpickling.

A run folder holds config.json (model + training config), model.safetensors,
vocab.json (the tokenizer), history.json and metrics.json.
"""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from attention.model import AttentionClassifier, ModelConfig
from attention.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"  # shipped defaults, in git
RUNS_DIR = Path(os.environ.get("ATTENTION_RUNS_DIR", ROOT / "runs"))  # the user's runs


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


def save_run(path, model, tokenizer, classes, meta=None, history=None, metrics=None):
    """Save a run folder. Builds it beside the target and renames it into place, so a crash leaves the old run whole."""
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
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path.name} is missing from {path.parent}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path.name} in {path.parent} is not valid JSON ({e})") from None


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
    except (KeyError, TypeError, ValueError, FileNotFoundError) as e:
        raise CheckpointError(f"config or vocabulary in {path} is unusable: {e}") from None
    model = AttentionClassifier(cfg)
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

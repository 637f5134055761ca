"""Runs on disk: a folder per trained model, written atomically, loaded without unpickling.

A run folder holds config.json (model + training config), model.safetensors,
vocab.json (the tokenizer), history.json and metrics.json.
A training in progress can also leave a FitState (fit_state.json and the safetensors file it names), to resume from.
"""

import copy
import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parents[2]  # the repository: attention/training/ is two below it
MODELS_DIR = ROOT / "models"  # shipped defaults, in git
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
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"no run folder at {path}")
    config = read_json(path / "config.json")
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
    hist = read_json(path / "history.json") if (path / "history.json").exists() else {}
    metrics = read_json(path / "metrics.json") if (path / "metrics.json").exists() else {}
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
    split = read_json(path)
    texts, labels = split.get("texts"), split.get("labels")
    ok = isinstance(texts, list) and isinstance(labels, list) and len(texts) == len(labels)
    if not (ok and all(isinstance(t, str) for t in texts) and all(isinstance(y, int) for y in labels)):
        raise CheckpointError(f"{VALIDATION} in {path.parent} is not a list of texts with one label each")
    return split


def read_config(path) -> dict:
    """A run's config.json alone (cheap: no weights), for pickers and tables."""
    return read_json(Path(path) / "config.json")


# --- a training in progress: the state fit resumes from ---------------------------------------------

FIT_STATE = "fit_state.json"  # names the tensors file it goes with: fit_state.<sha256 prefix>.safetensors


@dataclass
class FitState:
    """Everything fit needs to continue after `epoch` as if never interrupted; a snapshot, not the live training."""

    epoch: int  # the last completed epoch
    step: int  # optimizer steps so far
    model: dict  # the model's state_dict
    optimizer: dict  # AdamW's state_dict: per-parameter step, exp_avg, exp_avg_sq
    generator: torch.Tensor  # the training generator's state (uint8): next batch order and dropout masks
    history: dict
    best_loss: float
    best_state: dict | None  # state_dict of the best epoch so far
    bad_epochs: int  # epochs since the best one

    @classmethod
    def capture(cls, model, opt, gen, history, **bookkeeping):
        """Copy the live training (best_state is shared: fit replaces it, never changes it in place)."""
        weights, optimizer, history = (copy.deepcopy(x) for x in (model.state_dict(), opt.state_dict(), history))
        return cls(model=weights, optimizer=optimizer, generator=gen.get_state(), history=history, **bookkeeping)

    def restore(self, model, opt, gen):
        """Load the weights, AdamW's moments and the generator's position into a fresh training."""
        model.load_state_dict(self.model)
        opt.load_state_dict(copy.deepcopy(self.optimizer))  # it would keep our tensors and update them in place
        gen.set_state(self.generator)


def save_fit_state(folder, state: FitState) -> Path:
    """Save `state` into folder: tensors to safetensors, the rest to fit_state.json. The JSON is written last and
    names its tensors file by content hash, so a crash at any moment leaves the previous state whole."""
    folder = Path(folder)
    tensors, optimizer = _optimizer_to_files(state.optimizer)
    tensors |= {f"model.{k}": v for k, v in state.model.items()}
    tensors |= {f"best.{k}": v for k, v in (state.best_state or {}).items()}
    tensors["generator"] = state.generator
    blob = safetensors.torch.save({k: v.detach().contiguous() for k, v in tensors.items()})
    sha = hashlib.sha256(blob).hexdigest()
    name = f"fit_state.{sha[:16]}.safetensors"
    write_atomic(folder / name, blob)
    meta = dict(tensors=name, sha256=sha, epoch=state.epoch, step=state.step, bad_epochs=state.bad_epochs)
    meta |= dict(
        best_loss=None if math.isinf(state.best_loss) else state.best_loss, has_best=state.best_state is not None
    )
    write_json(folder / FIT_STATE, dict(meta, optimizer=optimizer, history=state.history))
    for old in folder.glob("fit_state.*.safetensors"):  # the committed JSON no longer names them
        if old.name != name:
            old.unlink(missing_ok=True)
    return folder / FIT_STATE


def load_fit_state(folder, model) -> FitState | None:
    """The FitState saved in folder for `model`'s architecture, or None if there is none. Never unpickles.

    Raises CheckpointError if the files are corrupt, incomplete, or were saved by a different model."""
    folder = Path(folder)
    if not (folder / FIT_STATE).is_file():
        return None
    meta = read_json(folder / FIT_STATE)
    where = f"{FIT_STATE} in {folder}"
    try:
        blob = (folder / Path(meta["tensors"]).name).read_bytes()
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{where} names no tensors file ({e})") from None
    except OSError as e:
        raise CheckpointError(f"{where} names a tensors file that cannot be read: {e}") from None
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise CheckpointError(f"{meta['tensors']} in {folder} is corrupt: its content does not match {FIT_STATE}")
    try:
        tensors = safetensors.torch.load(blob)
        parts = {"model": {}, "best": {}, "optimizer": {}, "generator": {"": tensors.pop("generator")}}
        for key, t in tensors.items():
            kind, _, name = key.partition(".")
            parts[kind][name] = t
        state = FitState(
            model=parts["model"],
            optimizer=_optimizer_from_files(parts["optimizer"], meta),
            generator=parts["generator"][""],
            history=meta["history"],
            best_loss=math.inf if meta["best_loss"] is None else float(meta["best_loss"]),
            best_state=parts["best"] if meta["has_best"] else None,
            **{k: int(meta[k]) for k in ("epoch", "step", "bad_epochs")},
        )
        _check_fits(state, model)
    except (SafetensorError, KeyError, TypeError, ValueError, AttributeError, RuntimeError) as e:
        raise CheckpointError(f"{where} is incomplete or not for this model: {e!r}") from None
    return state


def _optimizer_to_files(opt_state):
    """An optimizer's state_dict as (tensors named 'optimizer.<param index>.<name>', JSON-ready rest)."""
    tensors, other = {}, {}
    for i, per_param in opt_state["state"].items():
        for k, v in per_param.items():
            if torch.is_tensor(v):
                tensors[f"optimizer.{i}.{k}"] = v
            else:
                other.setdefault(str(i), {})[k] = v
    return tensors, dict(param_groups=opt_state["param_groups"], state=other)


def _optimizer_from_files(tensors, meta):
    """The state_dict _optimizer_to_files split, whole again (JSON turned the betas tuple into a list)."""
    saved = meta["optimizer"]
    state = {int(i): dict(per_param) for i, per_param in saved["state"].items()}
    for key, t in tensors.items():
        i, _, k = key.partition(".")
        state.setdefault(int(i), {})[k] = t
    tuples = lambda g: {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
    return dict(state=state, param_groups=[tuples(g) for g in saved["param_groups"]])


def _check_fits(state: FitState, model):
    """Raise ValueError unless the state's weights, optimizer and generator fit `model` and a torch.Generator."""
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    for what, weights in (("weights", state.model), ("best weights", state.best_state)):
        if weights is not None and {k: v.shape for k, v in weights.items()} != shapes:
            raise ValueError(f"its {what} do not have this model's names and shapes")
    n = sum(len(g["params"]) for g in state.optimizer["param_groups"])
    if n != len(list(model.parameters())):
        raise ValueError(f"its optimizer has {n} parameters, the model {len(list(model.parameters()))}")
    if not isinstance(state.history, dict) or not isinstance(state.history.get("epochs"), list):
        raise ValueError("its history has no list of epochs")
    torch.Generator().set_state(state.generator)  # RuntimeError if it is not a generator's state

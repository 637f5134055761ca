"""A training in progress: the state fit resumes from after a lost worker or a restart (model, optimizer, epoch,
history, generators), saved after every epoch beside the job's log. Loaded without unpickling, like a run."""

import copy
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import safetensors.torch
import torch
from safetensors import SafetensorError

from attention.training.checkpoints import CheckpointError, read_json, write_atomic, write_json

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


def clear_fit_state(folder):
    """Remove a folder's FitState (its JSON and tensors), once the training it resumes has been saved as a run."""
    for f in Path(folder).glob("fit_state.*"):
        f.unlink(missing_ok=True)


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

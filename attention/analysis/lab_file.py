"""A Heads lab report kept beside a model, for models whose report takes a minute (MiniLM's 72 heads): JSON,
tied to the weights it was measured on by their hash, so a retrained model is measured again, never misreported.

    python -m attention.analysis.lab_file models/minilm-tweets     # measure and write models/minilm-tweets/lab.json
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from attention.analysis.heads import Scores

NAME = "lab.json"


def weights_hash(run_path) -> str:
    return hashlib.sha256((Path(run_path) / "model.safetensors").read_bytes()).hexdigest()


def save(run_path, rep):
    """Write the report (as heads.lab_report gives it) to run_path/lab.json."""
    from attention.training.checkpoints import write_json

    plain = dict(rep, full=vars(rep["full"]), rows=[dict(r) for r in rep["rows"]], weights=weights_hash(run_path))
    write_json(Path(run_path) / NAME, _lists(plain))


def load(run_path):
    """The saved report of this run's current weights, or None (none saved, unreadable, or for other weights)."""
    try:
        saved = json.loads((Path(run_path) / NAME).read_text(encoding="utf-8"))
        if saved.pop("weights") != weights_hash(run_path):
            return None
        full = saved["full"]
        saved["full"] = Scores(full["loss"], full["accuracy"], np.array(full["preds"]), np.array(full["probs"]))
        for r in saved["rows"]:
            r["flipped"], r["top"] = np.array(r["flipped"], dtype=np.int64), np.array(r["top"], dtype=np.int64)
        saved["curve"] = [tuple(p) for p in saved["curve"]]
        saved["diagnostics"] = [{k: np.array(v) for k, v in d.items()} for d in saved["diagnostics"]]
        saved["similarity"] = [np.array(m) for m in saved["similarity"]]
        hits = saved["position_hits"]
        saved["position_hits"] = None if hits is None else [None if h is None else np.array(h) for h in hits]
        saved["labels"] = np.array(saved["labels"])
        return saved
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _lists(obj):
    """numpy arrays and scalars as JSON lists and numbers, inside dicts, lists and tuples."""
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_lists(v) for v in obj]
    if isinstance(obj, np.ndarray | np.generic):
        return obj.tolist()
    return obj


def main(argv=None):
    from attention.analysis.heads import lab_report
    from attention.training.checkpoints import load_run

    for path in argv if argv is not None else sys.argv[1:]:
        save(path, lab_report(load_run(path)))
        print(f"wrote {Path(path) / NAME}")


if __name__ == "__main__":
    main()

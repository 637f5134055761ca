"""The run store the app shows: the user's runs beside the shipped models; list, save, rename, delete, zip."""

import io
import itertools
import os
import re
import shutil
import time
import uuid
import zipfile
from collections import Counter
from pathlib import Path

from attention.training.checkpoints import (
    MODELS_DIR,
    ROOT,
    VALIDATION,
    CheckpointError,
    read_config,
    read_json,
    save_run,
    write_json,
)

RUNS_DIR = Path(os.environ.get("ATTENTION_RUNS_DIR", ROOT / "runs"))  # the user's runs
CACHE = ".cache"  # prepared built-in datasets, under the runs folder (every worker shares it)


def list_runs(*dirs):
    """Run folders (those with a config.json) under the given directories, sorted by name."""
    dirs = dirs or (MODELS_DIR, RUNS_DIR)
    found = []
    for d in map(Path, dirs):
        if d.is_dir():
            found += sorted(p for p in d.iterdir() if (p / "config.json").is_file() and not p.name.startswith("."))
    return found


# --- the user's run folders: naming, rename, delete, zip, the table of runs ------------------------------------


def slug(text):
    """A folder-safe version of a dataset name: 'My file.csv' -> 'my-file-csv'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "run"


def save_new_run(runs_dir, base, model, tokenizer, classes, meta, history, metrics, validation=None) -> Path:
    """Save under a new, readable, unique folder: '<base>-YYYYmmdd-HHMM', then '-2', '-3'... if taken.

    The folder is claimed with mkdir, which only one caller can win, whatever the process: two trainings ending in
    the same minute on two workers once both found the name free, and the second save replaced the first run.
    save_run then swaps the empty claim for the finished folder."""
    runs_dir = Path(runs_dir or RUNS_DIR)
    runs_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{slug(base)}-{time.strftime('%Y%m%d-%H%M')}"
    for n in itertools.count(1):
        path = runs_dir / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
            break
        except FileExistsError:
            continue
    try:
        return save_run(path, model, tokenizer, classes, meta, history, metrics, validation)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)  # the claim (save_run cleans up its own half-written folder)
        raise


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


def runs_table(dirs=None, shared=None):
    """One row per run folder, the user's newest first, then any opened from a share link ({name: path}), then
    the shipped ones; unreadable runs say why."""
    rows = [run_row(p) for p in list_runs(*(dirs or (MODELS_DIR, RUNS_DIR)))]
    rows += [dict(run_row(Path(path)), folder=name, shared=True) for name, path in (shared or {}).items()]
    own = sorted((r for r in rows if not (r["shipped"] or r["shared"])), key=lambda r: (r["created"], r["folder"]))
    rows = own[::-1] + [r for r in rows if r["shared"]] + [r for r in rows if r["shipped"]]
    labels = [run_label(r) for r in rows]
    twice = {lab for lab, n in Counter(labels).items() if n > 1}  # same name, minute and accuracy: add the folder
    for r, lab in zip(rows, labels):
        r["label"] = f"{lab} · {r['folder']}" if lab in twice else lab
    return rows


def run_row(p: Path):
    """What the runs table and the model picker say of one run folder ('problem' if it can't be read)."""
    row = dict(folder=p.name, name=p.name, dataset="?", encoder="", **dict.fromkeys(("heads", "layers", "d_model")))
    row.update(model={}, classes=[])  # config.json's, for the sidebar's summary (not shown in the table)
    row.update(test_acc=None, macro_f1=None, created="", ended="", shipped=is_shipped(p), shared=False)
    row.update(link="", problem="", path=str(p))
    try:
        c = read_config(p)
        row.update(name=c.get("name", p.name), dataset=c.get("dataset", "?"), heads=c["model"]["num_heads"])
        row.update(layers=c["model"].get("num_layers", 1), d_model=c["model"]["d_model"])
        row.update(created=c.get("created", ""), ended=c.get("note", ""), link=c.get("share", ""))
        row.update(encoder=c.get("encoder", ""), model=c["model"], classes=c.get("classes", []))
        test = read_json(p / "metrics.json").get("test", {})
        row.update(test_acc=test.get("accuracy"), macro_f1=test.get("macro_f1"))
    except (CheckpointError, KeyError, TypeError, OSError, ValueError) as e:
        row["problem"] = row["problem"] or str(e)
    return row


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
    parts.append("shared with you" if row.get("shared") else "")
    return " · ".join(p for p in parts if p)

"""Whose runs are whose: each visitor's runs in a folder of their own, shared only through an unguessable link.

An owner is a key derived from who the visitor is: their account when the host has configured login (st.login),
otherwise an anonymous id that their browser keeps in a cookie. The key is a hash, so it is safe as a folder name
(no path is ever built from what a browser sent) and tells nothing of the cookie. A visitor's runs and trainings
live in <runs>/<owner key>/; they see the shipped models, their own runs, and runs opened from a share link.

A share link carries a token; <runs>/.shares/<token>.json names the run it opens, read-only: renaming and deleting
check ownership (the owner's folder), never the link, and the page offers sharing only on the visitor's own runs.
Limits (settings, README): runs and megabytes per owner, megabytes in all, and how long an anonymous visitor's
runs are kept after their last visit.
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path

from attention.training.checkpoints import read_config, write_json

VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{32}")  # what new_visitor_id() makes; a cookie is checked against it
OWNER = re.compile(r"[0-9a-f]{32}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
SHARED = "shared-"  # a shared run's name in the model picker and in links: shared-<token>
SHARES = ".shares"
OWNER_FILE = ".owner.json"  # kind (visitor | account); its mtime is the owner's last visit

MAX_RUNS = int(os.environ.get("ATTENTION_MAX_RUNS", "30"))  # per owner
MAX_MB = float(os.environ.get("ATTENTION_MAX_MB", "300"))  # per owner: runs and trainings on disk
DISK_MB = float(os.environ.get("ATTENTION_DISK_MB", "5000"))  # every owner together
KEEP_DAYS = float(os.environ.get("ATTENTION_KEEP_DAYS", "30"))  # an anonymous visitor's runs, after their last visit
JOB_DAYS = 1.0  # a finished training's job folder (its log and spec) is removed this long after it ended


def new_visitor_id() -> str:
    return secrets.token_urlsafe(24)


def visitor(visitor_id) -> str | None:
    """The owner key of an anonymous visitor's id (from their cookie), or None if it is not one we make."""
    if not isinstance(visitor_id, str) or not VISITOR_ID.fullmatch(visitor_id):
        return None
    return _key("visitor", visitor_id)


def account(subject: str) -> str:
    """The owner key of a logged-in account (its OIDC subject)."""
    return _key("account", subject)


def _key(kind, ident):
    return hashlib.sha256(f"{kind}:{ident}".encode()).hexdigest()[:32]


def home(owner: str, runs_dir) -> Path:
    """The owner's folder (made if new); refuses anything that is not an owner key."""
    if not OWNER.fullmatch(owner):
        raise ValueError("not an owner key")
    path = Path(runs_dir) / owner
    path.mkdir(parents=True, exist_ok=True)
    return path


def seen(home_dir: Path, kind: str):
    """Note a visit (once per session): an anonymous visitor's runs are kept KEEP_DAYS after their last one."""
    write_json(Path(home_dir) / OWNER_FILE, dict(kind=kind))


# --- share links -----------------------------------------------------------------------------------------------


def share(run: Path, runs_dir) -> str:
    """Make one of the owner's runs readable by link; returns the link's name (shared-<token>), the same each time."""
    run = Path(run)
    config = read_config(run)
    token = config.get("share")
    if not token:
        token = secrets.token_urlsafe(16)
        write_json(Path(runs_dir) / SHARES / f"{token}.json", dict(owner=run.parent.name, folder=run.name))
        write_json(run / "config.json", dict(config, share=token))
    return SHARED + token


def unshare(run: Path, runs_dir):
    """The run's link stops working (for everyone who has it)."""
    run = Path(run)
    config = read_config(run)
    if token := config.pop("share", None):
        (Path(runs_dir) / SHARES / f"{token}.json").unlink(missing_ok=True)
        write_json(run / "config.json", config)


def shared_run(name, runs_dir) -> Path | None:
    """The run a share link names (shared-<token>), or None if it is not one, was unshared or deleted."""
    token = name.removeprefix(SHARED) if isinstance(name, str) and name.startswith(SHARED) else ""
    if not TOKEN.fullmatch(token):
        return None
    try:
        entry = json.loads((Path(runs_dir) / SHARES / f"{token}.json").read_text(encoding="utf-8"))
        owner, folder = str(entry["owner"]), str(entry["folder"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not OWNER.fullmatch(owner):
        return None
    runs = {p.name: p for p in (Path(runs_dir) / owner).iterdir()} if (Path(runs_dir) / owner).is_dir() else {}
    run = runs.get(folder)
    try:
        return run if run is not None and read_config(run).get("share") == token else None
    except (OSError, ValueError):
        return None


# --- limits and keeping ------------------------------------------------------------------------------------------


def megabytes(path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


def over_limit(home_dir: Path, runs_dir, runs: int) -> str:
    """Why this owner may not start another training now ('' if they may)."""
    if runs >= MAX_RUNS:
        return f"You have {runs} runs, the most one visitor can keep ({MAX_RUNS}): delete one to train another."
    mine = megabytes(home_dir)
    if mine >= MAX_MB:
        return (
            f"Your runs take {mine:.0f} MB, the most one visitor can keep ({MAX_MB:.0f} MB): "
            "delete one to train another."
        )
    if megabytes(runs_dir) >= DISK_MB:
        return "This server's disk for runs is full. Nothing of yours was deleted; please try again later."
    return ""


def expire(runs_dir, now=None) -> list[str]:
    """Remove anonymous visitors' folders KEEP_DAYS after their last visit, finished job folders after JOB_DAYS,
    and share entries whose run is gone. Returns what was removed (owner keys and job ids)."""
    from attention.app import runlog  # with torch (its Progress): not needed to draw a first page

    now, runs_dir, gone = now or time.time(), Path(runs_dir), []
    if not runs_dir.is_dir():
        return gone
    for owner in (p for p in runs_dir.iterdir() if OWNER.fullmatch(p.name) and p.is_dir()):
        mark = owner / OWNER_FILE
        try:
            kind, last = json.loads(mark.read_text(encoding="utf-8")).get("kind"), mark.stat().st_mtime
        except (OSError, ValueError, AttributeError):
            kind, last = "visitor", owner.stat().st_mtime
        if kind == "visitor" and now - last > KEEP_DAYS * 86400:
            _remove(owner)
            gone.append(owner.name)
            continue
        for job in (owner / ".jobs").glob("*") if (owner / ".jobs").is_dir() else []:
            if runlog.ended(job) and now - runlog.last_written(job) > JOB_DAYS * 86400:
                _remove(job)
                gone.append(job.name)
    for entry in (runs_dir / SHARES).glob("*.json") if (runs_dir / SHARES).is_dir() else []:
        if shared_run(SHARED + entry.stem, runs_dir) is None:
            entry.unlink(missing_ok=True)
    return gone


def _remove(path: Path):
    """Renamed aside first (gone from every list at once), then removed."""
    trash = path.with_name(f".{path.name}.expired-{secrets.token_hex(3)}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)

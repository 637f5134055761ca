"""Helpers several test files share: opening the app in AppTest, and the fault catalogue's run folders."""

from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from attention import runs
from attention.model import AttentionClassifier, ModelConfig
from attention.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
APP, TIMEOUT = str(ROOT / "app.py"), 60


def app(**params):
    """The app in AppTest with these query parameters, not run yet."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def files(path):
    """{relative name: bytes} of every file under path: 'unchanged on disk' means equal snapshots."""
    return {str(f.relative_to(path)): f.read_bytes() for f in sorted(Path(path).rglob("*")) if f.is_file()}


def save_old_run(runs_dir, name="old-run"):
    """A finished run, saved before the fault happens."""
    tok = Tokenizer.build(["good film", "bad film", "good good"], min_freq=1)
    torch.manual_seed(0)
    model = AttentionClassifier(ModelConfig(vocab_size=len(tok), num_classes=2, d_model=16, num_heads=2))
    return runs.save_run(runs_dir / name, model, tok, ["neg", "pos"], dict(name=name, dataset="tiny"), {}, {})

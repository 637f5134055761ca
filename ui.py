"""What every page shares: cached models, the model picker, and small rendering helpers."""

import re
from pathlib import Path

import streamlit as st
import torch

from attention.runs import CheckpointError, list_runs, load_run

DEFAULT_MODEL = "tweets-4h"
MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


@st.cache_resource(show_spinner=False)
def warm_up():
    """Set torch's threads once per process (the machine has 2 cores) and run one op so the first request is fast."""
    torch.set_num_threads(2)
    torch.ones(1) @ torch.ones(1)
    return True


@st.cache_resource(show_spinner="Loading model…", max_entries=16)
def get_run(path: str, mtime: float):
    """A run loaded once per process and shared read-only (eval mode); mtime makes a re-saved run reload."""
    warm_up()
    run = load_run(path)
    for p in run.model.parameters():
        p.requires_grad_(False)
    return run


def runs_by_name():
    """{folder name: path} for the shipped models and the user's runs."""
    return {p.name: p for p in list_runs()}


def load(name):
    """The run called `name`, or None with an error shown."""
    path = runs_by_name().get(name)
    if path is None:
        st.error(f"There is no model called {name!r}.")
        return None
    try:
        return get_run(str(path), (Path(path) / "model.safetensors").stat().st_mtime)
    except (CheckpointError, OSError) as e:
        st.error(f"Could not load {name}: {e}")
        return None


def model_picker():
    """Sidebar model picker, bound to the URL (?model=...). Returns the chosen run folder name."""
    names = list(runs_by_name())
    if not names:
        st.sidebar.error("No models found: run `make models` or train one on the Train page.")
        st.stop()
    if st.session_state.get("model") not in names:
        st.session_state["model"] = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
    return st.sidebar.selectbox("Model", names, key="model", bind="query-params")


def model_info(run):
    """A few lines about the chosen model in the sidebar."""
    cfg = run.model.cfg
    test = run.metrics.get("test", {})
    lines = [
        f"**{run.meta.get('dataset', '?')}** · {cfg.num_heads} head{'s' * (cfg.num_heads > 1)} · "
        f"d_model {cfg.d_model} · {cfg.num_layers} layer{'s' * (cfg.num_layers > 1)}",
        f"classes: {', '.join(md_escape(c) for c in run.classes)}",
        f"trained with: {trained_masks(cfg)}; positions: {cfg.positional}",
    ]
    if test:
        lines.append(f"test accuracy {test['accuracy']:.1%} · macro-F1 {test['macro_f1']:.3f}")
    st.sidebar.caption("  \n".join(lines))


def trained_masks(cfg):
    masks = [m for m, on in (("padding mask", cfg.pad_mask), ("causal mask", cfg.causal)) if on]
    return " + ".join(masks) or "no mask"


def md_escape(text: str) -> str:
    """Escape Markdown so user text shows as typed (Streamlit never renders raw HTML; this stops Markdown too)."""
    return MD_SPECIAL.sub(r"\\\1", text)

"""Which model a page shows: the cached runs, the sidebar's picker and summary, the shipped siblings."""

from types import SimpleNamespace

import streamlit as st

from attention.app import owners, runstore
from attention.app.results import baseline, load_results
from attention.app.runstore import list_runs
from attention.app.scope import EXAMPLES
from attention.training.checkpoints import MODELS_DIR, CheckpointError, load_run
from ui import visitor
from ui.links import notices
from ui.server import warm_up
from ui.words import md_escape, trained_masks

DEFAULT_MODEL = "tweets-4h"


@st.cache_resource(show_spinner="Loading model…", max_entries=16)
def get_run(path: str, mtime: float):
    """A run loaded once per process and shared read-only (eval mode); mtime makes a re-saved run reload."""
    warm_up()
    run = load_run(path)
    for p in run.model.parameters():
        p.requires_grad_(False)
    return run


def runs_by_name():
    """{name: path} of what this visitor may open: the shipped models, their own runs, runs shared with them."""
    return {p.name: p for p in list_runs(MODELS_DIR, visitor.home())} | shared()


def shared():
    """{shared-<token>: path} of the runs this session opened from a share link (read-only)."""
    return st.session_state.setdefault("_shared", {})


def open_shared(name) -> bool:
    """Remember a share link's run for this session; False if the link is not (or no longer) valid."""
    path = owners.shared_run(name, runstore.RUNS_DIR)
    if path is None:
        return False
    shared()[name] = path
    return True


def run_mtime(name):
    """When the run's weights were last written (0 if missing): part of cache keys, so a re-saved run reloads."""
    try:
        return (runs_by_name()[name] / "model.safetensors").stat().st_mtime
    except (KeyError, OSError):
        return 0.0


def load(name):
    """The run called `name`, or None with an error shown."""
    path = runs_by_name().get(name)
    if path is None:
        st.error(f"There is no model called {name!r}.")
        return None
    try:
        return get_run(str(path), run_mtime(name))
    except (CheckpointError, OSError) as e:
        st.error(f"Could not load {name}: {e}")
        return None


def catalog():
    """{name: row of runs.runs_table()} for every run this visitor can load: their newest first, then runs shared
    with them, then the shipped ones."""
    return catalog_of(str(visitor.home()), tuple(sorted((k, str(v)) for k, v in shared().items())))


@st.cache_data(show_spinner=False, ttl=5, max_entries=256)
def catalog_of(home: str, shared: tuple):
    rows = runstore.runs_table((MODELS_DIR, home), dict(shared))
    return {r["folder"]: r for r in rows if not r["problem"]}  # a broken run shows on the Train page


def refresh():
    """Forget the cached catalogues: a run was saved, renamed, deleted or shared."""
    catalog_of.clear()


def model_picker():
    """Sidebar model picker. A shared link's ?model= is read once per session. Returns the chosen name."""
    labels = {folder: row["label"] for folder, row in catalog().items()}
    names = list(labels)
    if not names:
        st.sidebar.error("No models found: run `make models` or train one on the Train page.")
        st.stop()
    if st.session_state.get("model") not in names:
        want = st.query_params.get("model")
        if want is not None and want not in names and open_shared(want):
            labels, names = opened(want)
        if want is not None and want not in names:
            notices().append(f"There is no model called “{want}”; showing the default model instead.")
        default = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
        st.session_state["model"] = want if want in names else default
    return st.sidebar.selectbox("Model", names, key="model", format_func=labels.get)


def opened(name):
    """(labels, names) once a share link's run has joined the catalogue."""
    labels = {folder: row["label"] for folder, row in catalog().items()}
    return labels, list(labels)


def siblings(name):
    """{heads: name} of the shipped models of the same kind (small, or on the pretrained encoder) trained on the
    same dataset as `name`."""
    cat = catalog()
    kind = lambda r: (r["dataset"], r["encoder"])
    same = (r for r in cat.values() if r["shipped"] and kind(r) == kind(cat[name]))
    shipped = sorted(same, key=lambda r: r["heads"])
    return {r["heads"]: r["folder"] for r in shipped}


def chosen_run(summary=True):
    """(name, run) of the sidebar's model, its summary drawn in the sidebar; stops the page if it can't load."""
    name = st.session_state["model"]
    run = load(name)
    if run is None:
        st.stop()
    if summary:
        model_info(name)
    return name, run


def examples(name):
    """Example sentences for the model's dataset (the tweets' for a dataset of a visitor's own), from the catalogue's
    row: no weights read."""
    return EXAMPLES.get(catalog().get(name, {}).get("dataset"), EXAMPLES["tweets"])


def model_info(name):
    """A few lines about the chosen model in the sidebar, from the catalogue's row (its config.json and
    metrics.json, read for the picker: no weights, so a page can say them before torch is imported)."""
    row = catalog().get(name)
    if row is None:
        return  # the page that loads it says what is wrong
    cfg, dataset, acc = SimpleNamespace(**row["model"]), row["dataset"], row["test_acc"]
    lines = [
        f"**{dataset}** · {cfg.num_heads} head{'s' * (cfg.num_heads > 1)} · "
        f"d_model {cfg.d_model} · {cfg.num_layers} layer{'s' * (cfg.num_layers > 1)}",
        f"classes: {', '.join(md_escape(c) for c in row['classes'])}",
        f"trained with: {trained_masks(cfg)}; positions: {cfg.positional}",
    ]
    if acc is not None:
        lines.append(f"test accuracy {acc:.1%} · macro-F1 {row['macro_f1']:.3f}")
    base = baseline(load_results(), dataset)
    if acc is not None and base:
        worse = " (better than this model)" if base["accuracy"] > acc + 0.01 else ""
        lines.append(f"TF-IDF + logistic-regression baseline on this dataset: {base['accuracy']:.1%}{worse}")
    st.sidebar.caption("  \n".join(lines))

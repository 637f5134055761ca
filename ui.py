"""What every page shares: cached models, the model picker, and small rendering helpers."""

import gc
import importlib
import re
import sys

import streamlit as st
import torch

from attention.analysis.sentence import MAX_CHARS
from attention.app import allocator
from attention.app.results import baseline, load_results
from attention.app.runstore import list_runs, runs_table
from attention.training.checkpoints import CheckpointError, load_run
from attention.viz.figures import CELL_TEXT_CSS

DEFAULT_MODEL = "tweets-4h"
# What the Heads lab and Train pages import (pandas, scikit-learn and SciPy: about 140 MB), and torch._dynamo,
# which the optimizer's first step imports (70 MB): see preload().
PRELOAD = ("pandas", "pyarrow", "attention.analysis.heads", "attention.training.experiment", "attention.app.jobs")
PRELOAD += ("attention.viz.lab_figures", "torch.optim", "torch._dynamo")
MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def ensure_router():
    """Make a page run under app.py even when it is the first page a fresh server is asked for.

    The app's one workaround, kept here. Streamlit treats a folder named pages/ as its legacy multipage layout
    until st.navigation has run once in the process: PagesManager.uses_pages_directory, a class attribute set
    when the first session starts (streamlit/runtime/pages_manager.py), makes the script runner run the page
    file alone (_mpa_v1 in scriptrunner/script_runner.py), without app.py's sidebar. No setting turns that
    off, and st.navigation is documented to switch the whole process away from pages/ once it runs; renaming
    the folder would avoid all this, but the project keeps pages/. So a page that finds the legacy mode on
    switches it off and reruns (once per session, so a rerun never swallows a later click): the same URL then
    goes through app.py. Calling st.navigation from the page instead (public API) works in the browser, but
    Streamlit's AppTest turns the legacy mode back on before every run, and the rerun there swallowed clicks.
    In AppTest the page therefore draws the shared sidebar itself. tests/browser/test_e2e_routing.py opens every page
    as the first request of a fresh server and checks that app.py ran.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    if not st.session_state.get("_routed"):
        st.session_state["_routed"] = True
        st.rerun()
    page_style()  # what app.py does before every page
    model_picker()
    keep_shared()


@st.cache_resource(show_spinner=False)
def warm_up():
    """One torch thread for the whole process, and one op run so the first request is fast.

    On 2 shared cores, two threads wait on each other whenever anything else is busy (another session, a
    training, the browser): a 32-token forward pass had a p95 of 63-104 ms with two threads, 13 ms with one.
    A 1 ms switch interval (Python's default is 5 ms) cut the p95 of 12 sessions exploring while one trained
    from 277 ms to about 190 ms (bench/load.py), with no loss of training speed.
    """
    allocator.settle()  # large blocks go back to the system when freed (attention/app/allocator.py)
    torch.set_num_threads(1)
    sys.setswitchinterval(0.001)  # a training thread hands the interpreter to waiting sessions sooner than 5 ms
    torch.ones(1) @ torch.ones(1)
    gc.collect()  # then freeze what is alive (modules, torch): Python's own collections skip it from now on,
    gc.freeze()  # so they cost less while a training thread runs (runner.postScriptGC is off in config.toml)
    return True


@st.cache_resource(show_spinner=False)
def preload():
    """Import what the other pages need, once per process, after the first page has been drawn.

    Their imports (about 210 MB, PRELOAD) would otherwise land on the first visitor of the Heads lab or the
    first training, and the server would look as if it kept the memory of whoever came first (bench/memory.py).
    Not in a thread of its own: a module half imported by one thread is seen half-made by another (plotly then
    failed on pandas.Series).
    """
    for name in PRELOAD:
        importlib.import_module(name)
    return True


@st.cache_resource(scope="session", on_release=lambda _: allocator.trim_soon(), show_spinner=False)
def session_memory():
    """Made once per session; when the session ends, what it held goes back to the system."""
    return True


def page_style():
    """CSS every page needs: heatmap cell numbers that would be too small to read are hidden (figures.CELL_TEXT_CSS)."""
    st.html(f"<style>{CELL_TEXT_CSS}</style>")  # only a style: Streamlit adds it without taking room on the page


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


@st.cache_data(show_spinner=False, ttl=5)
def catalog():
    """{folder: row of runs.runs_table()} for every loadable run, the user's newest first, then the shipped ones."""
    return {r["folder"]: r for r in runs_table() if not r["problem"]}  # a broken run shows on the Train page


def model_picker():
    """Sidebar model picker. A shared link's ?model= is read once per session. Returns the chosen name."""
    labels = {folder: row["label"] for folder, row in catalog().items()}
    names = list(labels)
    if not names:
        st.sidebar.error("No models found: run `make models` or train one on the Train page.")
        st.stop()
    if st.session_state.get("model") not in names:
        want = st.query_params.get("model")
        if want is not None and want not in names:
            notices().append(f"There is no model called “{want}”; showing the default model instead.")
        default = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
        st.session_state["model"] = want if want in names else default
    return st.sidebar.selectbox("Model", names, key="model", format_func=labels.get)


def siblings(name):
    """{heads: name} of the shipped models trained on the same dataset as `name`."""
    cat = catalog()
    dataset = cat[name]["dataset"]
    shipped = sorted((r for r in cat.values() if r["shipped"] and r["dataset"] == dataset), key=lambda r: r["heads"])
    return {r["heads"]: r["folder"] for r in shipped}


def chosen_run():
    """(name, run) of the sidebar's model, its summary drawn in the sidebar; stops the page if it can't load."""
    name = st.session_state["model"]
    run = load(name)
    if run is None:
        st.stop()
    model_info(run)
    return name, run


def show_notices():
    """Show the shared link's notices once."""
    for note in notices():
        st.warning(note)
    notices().clear()


def notices():
    """Messages about the shared link (bad query parameters) to show once on the page."""
    return st.session_state.setdefault("_notices", [])


def parse_flag(raw):
    if raw not in ("on", "off"):
        raise ValueError("expected on or off")
    return raw == "on"


def whole_number(raw):
    try:
        return int(raw)
    except ValueError:
        raise ValueError("expected a whole number such as 2") from None


def parse_ints(raw):
    try:
        return [int(x) for x in raw.split(",") if x] if raw else []
    except ValueError:
        raise ValueError("expected token positions such as 0,3") from None


URL_PARSERS = dict(  # ?key=value -> session_state value; a ValueError means "ignore it, with a notice"
    text=str,  # all of it, so the page can say how much the model leaves out
    layer=whole_number,
    head=whole_number,
    row=whole_number,
    pad=whole_number,
    padmask=parse_flag,
    causal=parse_flag,
    nopos=parse_flag,
    hide=parse_ints,
    off=lambda raw: [x for x in raw.split(",") if x],
    focus=str,
)


def parsers(*keys):
    """The URL parsers a page uses, by key."""
    return {k: URL_PARSERS[k] for k in keys}


def read_url_once(page, parsers):
    """On a page's first run in a session, copy valid ?key=value into session_state; note the bad ones."""
    flag = f"_url_read_{page}"
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    for key, parse in parsers.items():
        raw = st.query_params.get(key)
        if raw is None:
            continue
        try:
            st.session_state[key] = parse(raw)
        except ValueError as e:
            notices().append(f"Ignored {key}={raw[:40]!r} in the link: {e}. Using the default instead.")


def write_url(values, defaults):
    """Put the view's non-default values in the URL so the address bar is a shareable link."""
    want = {k: v for k, v in values.items() if v != defaults.get(k)}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


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
    base = baseline(load_results(), run.meta.get("dataset"))
    if test and base:
        worse = " (better than this model)" if base["accuracy"] > test["accuracy"] + 0.01 else ""
        lines.append(f"TF-IDF + logistic-regression baseline on this dataset: {base['accuracy']:.1%}{worse}")
    st.sidebar.caption("  \n".join(lines))


def cut_message(truncated, cut_chars, max_len):
    """What was left out of a sentence too long for the model, in words and characters; None if nothing was."""
    cut = [f"{cut_chars:,} characters past the first {MAX_CHARS:,}"] if cut_chars else []
    cut += [f"{truncated:,} words past the model's limit of {max_len} tokens"] if truncated else []
    return f"The sentence is too long: {' and '.join(cut)} were left out." if cut else None


def trained_masks(cfg):
    masks = [m for m, on in (("padding mask", cfg.pad_mask), ("causal mask", cfg.causal)) if on]
    return " + ".join(masks) or "no mask"


def md_escape(text: str) -> str:
    """Escape Markdown so user text shows as typed (Streamlit never renders raw HTML; this stops Markdown too)."""
    return MD_SPECIAL.sub(r"\\\1", text)


SHARED = ("text", "layer", "pad", "padmask", "causal", "hide", "off")  # settings Explore and Inside a head share


def keep_shared():
    """Carry the sentence and mask settings from page to page (Streamlit drops a widget's value when the page
    that drew it is left; assigning the value to itself makes it the session's own)."""
    ss = st.session_state
    for key in SHARED:
        if key in ss:
            ss[key] = ss[key]


def keep_valid(cfg):
    """Give mask toggles the model's trained defaults and drop URL values this model cannot show."""
    ss = st.session_state
    ss.setdefault("padmask", cfg.pad_mask)
    ss.setdefault("causal", cfg.causal)
    for key, top in (("pad", cfg.max_len), ("layer", cfg.num_layers)):
        low = 0 if key == "pad" else 1
        if key in ss and not (isinstance(ss[key], int) and low <= ss[key] <= top):
            notices().append(f"{key} must be between {low} and {top} for this model; using {low}.")
            ss[key] = low


def keep_options(key, options, single=False):
    """Drop selections that are no longer options (the sentence or model changed)."""
    ss = st.session_state
    if key not in ss or ss[key] is None:
        return
    if single:
        if ss[key] not in options:
            ss[key] = options[0]
    elif any(v not in options for v in ss[key]):
        ss[key] = [v for v in ss[key] if v in options]


def use_example():
    """Callback: copy the clicked example into the sentence box."""
    if st.session_state.get("example"):
        st.session_state["text"] = st.session_state["example"]
    st.session_state["example"] = None


def switch_heads(siblings):
    """Callback: the Heads control picks the shipped model with that many heads."""
    heads = st.session_state.get("heads")
    if heads in siblings:
        st.session_state["model"] = siblings[heads]
        for key in ("off", "layer"):  # head and layer choices belong to the old model
            st.session_state.pop(key, None)


def head_pairs(labels):
    """'L1H3' -> (0, 2)."""
    return [(int(lab[1 : lab.index("H")]) - 1, int(lab[lab.index("H") + 1 :]) - 1) for lab in labels]


def focus_label(opt):
    return {"all": "All heads", "avg": "Average"}.get(opt) or f"Head {opt[1:]}"


def share_link():
    """The full link to this view (host from the browser, state from the query string)."""
    from urllib.parse import urlencode

    base = st.context.url or ""
    query = urlencode(st.query_params.to_dict())
    return f"{base}?{query}" if query else base


# --- Train page -------------------------------------------------------------------------------


@st.cache_resource(scope="session", on_release=lambda box: box.release(), show_spinner=False)
def job_box():
    """This session's training job holder; when the session ends (tab closed) its job is stopped."""
    from attention.app.jobs import JobBox

    return JobBox()


def explore_link(model, text=None, **settings):
    """A link that opens the Explore page (the app's root) on `model`, and `text` and settings (off=...) if given."""
    from urllib.parse import quote, urlencode, urljoin

    params = dict(model=model, **({"text": text} if text else {}), **settings)
    return urljoin(st.context.url or "/", "./") + "?" + urlencode(params, quote_via=quote)

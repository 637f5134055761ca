"""Process and session resources: torch threads, the allocator, imports done once."""

import gc
import subprocess
import sys
import threading

import streamlit as st

from attention.app import allocator, owners, runstore

# Once the browser has drawn it, this element asks for a rerun (components v2: no iframe; it draws nothing).
_PAINTED_JS = "export default function ({ setTriggerValue }) { setTimeout(() => setTriggerValue('painted', true)); }"
_painted = st.components.v2.component("page_painted", js=_PAINTED_JS)


def model_may_load():
    """True when the page may import torch and load its model; False (the page stops) on a fresh server's first run.

    Importing torch takes about 1.3 s, most of it loading its libraries while holding the interpreter. A first
    visit's browser, still fetching the page's scripts from this server at that moment, waited for its first
    paint meanwhile (bench/serve.py: launch -> the sentence box drawn, 1.64-1.80x a bare app's cold start with the
    import right after the first run; 1.34-1.59x with this wait). So while torch is not imported, the page is
    drawn first, and this element, once the browser has drawn it, asks for the rerun that loads the model.
    """
    if "torch" in sys.modules or st.session_state.get("_page_painted"):
        return True
    _painted(key="_painted", on_painted_change=_on_painted)
    return False


def _on_painted():
    st.session_state["_page_painted"] = True


@st.cache_resource(show_spinner=False)
def warm_up():
    """One torch thread for the whole process, and one op run so the first request is fast.

    On 2 shared cores, two threads wait on each other whenever anything else is busy (another session, a
    training worker, the browser): a 32-token forward pass had a p95 of 63-104 ms with two threads, 13 ms with
    one. A 1 ms switch interval (Python's default is 5 ms) lets many sessions' script threads take turns sooner.
    """
    import torch  # here, not at the top: the first page is drawn before torch is imported (about 1.3 s)

    allocator.settle()  # large blocks go back to the system when freed (attention/app/allocator.py)
    torch.set_num_threads(1)
    sys.setswitchinterval(0.001)  # a busy session's thread hands the interpreter to waiting ones sooner than 5 ms
    torch.ones(1) @ torch.ones(1)
    gc.collect()  # then freeze what is alive (modules, torch): Python's own collections skip it from now on,
    gc.freeze()  # so they cost less while sessions run (runner.postScriptGC is off in config.toml)
    return True


@st.cache_resource(show_spinner=False)
def prepare_training_data():
    """Once per process, after the first page is drawn: the Train page's default dataset, read, split and encoded
    into the prepared-data cache by a short-lived process of its own, so the first training starts without the
    2-3 s it takes (attention/training/prepared.py).

    Not in this process: reading and splitting import pandas and scikit-learn (about 130 MB) that a server whose
    visitors only explore never needs; the Heads lab and the Train page import what they use when first visited.
    """
    cmd = [sys.executable, "-m", "attention.training.prepared", "tweets", str(runstore.RUNS_DIR / runstore.CACHE)]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    threading.Thread(target=subprocess.run, args=(cmd,), kwargs=quiet, daemon=True).start()  # run() reaps it
    return True


@st.cache_resource(scope="session", on_release=lambda _: allocator.trim_soon(), show_spinner=False)
def session_memory():
    """Made once per session; when the session ends, what it held goes back to the system."""
    return True


@st.cache_resource(ttl=3600, show_spinner=False)
def housekeeping():
    """At most once an hour: anonymous visitors' runs past their keeping time, old job folders, dead share links."""
    return owners.expire(runstore.RUNS_DIR)

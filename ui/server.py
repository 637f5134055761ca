"""Process and session resources: torch threads, the allocator, imports done once."""

import gc
import importlib
import sys

import streamlit as st

from attention.app import allocator, owners, runstore

# What the Heads lab and Train pages import (pandas, scikit-learn and SciPy: about 140 MB; Dask's client for the
# Train page): see preload(). Training itself runs in the engine's worker processes.
PRELOAD = ("pandas", "pyarrow", "attention.analysis.heads", "attention.app.jobs")


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
def preload():
    """Import what the other pages need, once per process, after the first page has been drawn.

    Their imports (about 140 MB, PRELOAD) would otherwise land on the first visitor of the Heads lab or the
    Train page, and the server would look as if it kept the memory of whoever came first (bench/memory.py).
    Not in a thread of its own: a module half imported by one thread is seen half-made by another (plotly then
    failed on pandas.Series).
    """
    for name in PRELOAD:
        importlib.import_module(name)
    from attention.app.trainer import CACHE
    from attention.training.loop import TrainConfig
    from attention.training.prepared import load_prepared

    load_prepared("tweets", TrainConfig(), runstore.RUNS_DIR / CACHE)  # the Train page's default, prepared for workers
    allocator.trim()
    return True


@st.cache_resource(scope="session", on_release=lambda _: allocator.trim_soon(), show_spinner=False)
def session_memory():
    """Made once per session; when the session ends, what it held goes back to the system."""
    return True


@st.cache_resource(ttl=3600, show_spinner=False)
def housekeeping():
    """At most once an hour: anonymous visitors' runs past their keeping time, old job folders, dead share links."""
    return owners.expire(runstore.RUNS_DIR)

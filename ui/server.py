"""Process and session resources: torch threads, the allocator, imports done once."""

import gc
import subprocess
import sys
import threading

import streamlit as st

from attention.app import allocator, owners, runstore


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

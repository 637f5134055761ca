"""bench/load.py's websocket sessions: Streamlit's protocol spoken from the load test's process (bench/wsclient.py).

Imported by bench/load.py, which puts the repository and bench/ on sys.path.
"""

import asyncio
import contextlib
import random
import time
from types import SimpleNamespace

from load_common import MODEL, note, progress, read_history, sentence
from websockets.exceptions import ConnectionClosed
from wsclient import Session

from attention.data.registry import DATASETS
from attention.viz.packed import unpack


def ws_failed(st, e):
    """Count a wait that ran out or a lost connection."""
    st.errors.update(["timeout" if isinstance(e, TimeoutError) else "websocket closed"])
    note("error", type(e).__name__, e)


def grid_sent(run, words, st):
    """Count the errors a run's messages show; True if among them is the grid of exactly these words (the canvas
    view's packed message, attention/viz/packed.py, whose first panel's columns are the tokens)."""
    st.errors.update(run.errors)
    labels = [f"{i}:{w}" for i, w in enumerate(words)]
    grids = [unpack(c.bytes)[0] for c in run.of("bidi_component") if c.id.endswith("-grid")]
    if any(g["cols"][0] == labels for g in grids):
        return True
    st.errors.update(["wrong grid" if grids else "no grid"])
    return False


async def ws_load(session, url, words, st, timeout):
    """A new websocket session with `words` in its query string, as a page load; the seconds go to st.loads."""
    try:
        run = await session.connect(f"model={MODEL}&text={'+'.join(words)}", timeout)
    except (TimeoutError, ConnectionClosed, OSError) as e:
        return ws_failed(st, e)
    if grid_sent(run, words, st):
        st.loads.append(run.seconds)
    note("session load", f"{run.seconds:.2f}s")


async def ws_interact(session, words, st, timeout):
    """Set the Sentence box to `words` and rerun, as Enter does; the latency in seconds, or None."""
    if session.ws is None or "text" not in session.ids:  # the last load failed: start over
        return None
    try:
        run = await session.rerun({session.ids["text"]: " ".join(words)}, timeout)
    except (TimeoutError, ConnectionClosed, OSError) as e:
        return ws_failed(st, e)
    note("interaction", len(words), "words", f"{run.seconds:.2f}s")
    return run.seconds if grid_sent(run, words, st) else None


async def ws_open_session(url, seed, st, args, delay=0.0):
    """A websocket session showing Explore with a first sentence: (session, its random generator, the words)."""
    await asyncio.sleep(delay)
    session, rng = Session(url), random.Random(seed)
    words = sentence(rng)
    await ws_load(session, url, words, st, args.timeout)
    return session, rng, words


async def ws_trainer(url, st, args):
    """The Train page with synthetic data and `--train-epochs` epochs set, not started yet."""
    session = Session(url, page_name="train")
    st.errors.update((await session.connect("", args.timeout)).errors)
    n = float(args.train_epochs)  # number_input values are doubles; patience = epochs: no early stop
    for values in ({"t_dataset": DATASETS["synthetic"]}, {"t_epochs": n, "t_patience": n}):  # a selectbox: the label
        run = await session.rerun({session.ids[key]: value for key, value in values.items()}, args.timeout)
        st.errors.update(run.errors)
    return session


async def ws_train(session, runs_dir, st, args, stop_at, out):
    """Click Start, then rerun the live fragment on its timer until done or stop_at; Stop it if unfinished."""
    out.update(epochs=args.train_epochs, finished=False, done=0)
    t0 = tick = time.perf_counter()
    text = None
    try:
        run = await session.rerun({}, args.timeout, trigger=session.ids["start_training"])
        while True:
            st.errors.update(run.errors)
            old, text = text, ([""] + [bar.text for bar in run.of("progress")])[-1]  # a chain of runs: the last
            saved = " ".join(a.body for a in run.of("alert") if "Saved as" in a.body)
            progress(text, bool(saved), time.perf_counter() - t0, out, saved)
            if text != old or out["finished"]:
                note("training:", text or ("finished" if out["finished"] else ""))
            if out["finished"] or not session.auto or time.perf_counter() >= stop_at:
                break
            fragment, every = next(iter(session.auto.items()))
            tick = max(tick + every, time.perf_counter())  # a timer: the next tick, or now if the run took longer
            await asyncio.sleep(tick - time.perf_counter())
            run = await session.rerun({}, args.timeout, fragment=fragment)
    except (TimeoutError, ConnectionClosed) as e:
        ws_failed(st, e)
    if not out["finished"] and session.ws is not None:
        with contextlib.suppress(TimeoutError, ConnectionClosed, KeyError):
            await session.rerun({}, 5, trigger=session.ids["stop_training"])
    read_history(runs_dir, out)


WS = SimpleNamespace(
    open=ws_open_session,
    interact=ws_interact,
    reload=ws_load,
    open_trainer=ws_trainer,
    train=ws_train,
    close=lambda session, st: session.close(),
)

"""Loopback load test: many sessions explore sentences while one more session trains a model.

python bench/load.py                                  # 12 websocket sessions for 60 s; prints a markdown table
python bench/load.py --sessions 4 --seconds 20 --json load.json --verbose
python bench/load.py --clients browser                # every session a Chromium page instead

Its own streamlit server (empty temp runs dir). Baseline: one session changes the sentence `--baseline`
times, back to back. Load phase: `--sessions` sessions open Explore, one more starts training on the
Train page (synthetic data), and for `--seconds` each explorer changes the sentence, waits for the new
grid, pauses about `--think` s, and again.

--clients ws (default): every session, the trainer's too, speaks Streamlit's websocket protocol from this
process (bench/wsclient.py), as the browser would: the trainer sets the form's widgets, clicks Start and
reruns the live fragment on its 0.5 s timer. Latency = the rerun request with the new sentence sent ->
script_finished received, with the new grid among the run's plotly charts: the server's time, nothing drawn.
--clients browser: one headless Chromium, a context per session. Latency = Enter pressed -> every heatmap
drawn. On 2 cores the browsers take most of the CPU, so this mostly measures Chromium.
Errors: exceptions and error boxes the app sent or showed, page exceptions, runs without the grid, waits
over `--timeout` s, websockets closed by the server, server tracebacks. The CPU line says who used the
cores. The client part is cut after seconds + 150 s (then what was measured so far is reported); the
server and browser are always shut.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
from conftest import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402
from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from serve import rss_mb  # noqa: E402
from test_e2e_explore import GRIDS_JS  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from wsclient import Session  # noqa: E402

from attention.data import DATASETS  # noqa: E402

MODEL, PANELS = "tweets-4h", 5  # 4 heads + their average
WORDS = "the flight was not good at all and my bag is lost but the crew were great thanks".split()
ERROR_BOXES = "[data-testid=stException], [data-testid=stAlertContentError]"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
T0, VERBOSE = time.perf_counter(), False
note = lambda *msg: VERBOSE and print(f"{time.perf_counter() - T0:6.1f}s", *msg, file=sys.stderr, flush=True)


def stats():
    """What a phase's sessions saw; `quiet` holds pages whose websocket we close ourselves (no error)."""
    return SimpleNamespace(latencies=[], loads=[], errors=Counter(), quiet=set())


def failed(st, e):
    """Count a wait that ran out, or the browser failing (a crashed page, say)."""
    st.errors.update(["timeout" if isinstance(e, PlaywrightTimeout) else "browser error"])
    note("error", str(e).splitlines()[0])


def percentile(xs, q):
    """Nearest-rank percentile (q in 0..1); nan for no data."""
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)] if xs else math.nan


def busy_cpu():
    """CPU seconds the whole machine has spent busy so far (user nice system irq softirq steal)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    return (sum(f) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    """CPU seconds used so far by process `root` and its living descendants."""
    procs = {}  # pid: (parent pid, cpu seconds)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            f = stat.read_text().rsplit(")", 1)[1].split()
            procs[int(stat.parent.name)] = (int(f[1]), (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"))
    tree = {root}
    for _ in range(8):  # generations: Chromium's renderers are 3 below us
        tree |= {pid for pid, (ppid, _) in procs.items() if ppid in tree}
    return sum(procs[p][1] for p in tree if p in procs)


async def new_page(browser, st):
    page = await (await browser.new_context(viewport={"width": 1400, "height": 1000})).new_page()
    page.on("pageerror", lambda e: st.errors.update(["page exception"]))
    closed = lambda ws: page in st.quiet or st.errors.update(["websocket closed"])  # noqa: E731
    page.on("websocket", lambda ws: ws.on("close", closed))
    return page


def sentence(rng, previous=None):
    """4-24 known words, never the sentence already in the box (that would not rerun anything)."""
    while True:
        n, shift = rng.randint(4, 24), rng.randrange(len(WORDS))
        words = [WORDS[(shift + i) % len(WORDS)] for i in range(n)]
        if words != previous:
            return words


def drawn(words):
    """JS that is true once the grid of exactly these words is drawn (not a stale one)."""
    labels = json.dumps([f"{i}:{w}" for i, w in enumerate(words)], separators=(",", ":"))  # as JSON.stringify
    return f"() => ({GRIDS_JS})().some(g => g.drawn === {PANELS} && JSON.stringify(g.x) === {json.dumps(labels)})"


async def open_explore(page, url, words, st, timeout):
    """Load Explore with `words` in the URL and wait for their grid; the seconds go to st.loads."""
    t0 = time.perf_counter()
    try:
        await page.goto(f"{url}/?model={MODEL}&text={'+'.join(words)}", timeout=timeout * 1000)
        await page.wait_for_function(drawn(words), timeout=timeout * 1000, polling=50)
        st.loads.append(time.perf_counter() - t0)
    except PlaywrightError as e:
        failed(st, e)
    note("page load", f"{time.perf_counter() - t0:.2f}s")


async def interact(page, words, st, timeout):
    """Type `words`, press Enter, wait for their grid; the latency in seconds, or None on a timeout."""
    box = page.get_by_label("Sentence")
    try:
        await box.fill(" ".join(words), timeout=timeout * 1000)
        t0 = time.perf_counter()
        await box.press("Enter")
        await page.wait_for_function(drawn(words), timeout=timeout * 1000, polling=50)
        dt = time.perf_counter() - t0
        if await page.locator(ERROR_BOXES).count():
            st.errors.update(["error box"])
    except PlaywrightError as e:
        return failed(st, e)
    note("interaction", len(words), "words", f"{dt:.2f}s")
    return dt


async def open_session(browser, url, seed, st, args, delay=0.0):
    """A new browser context showing Explore with a first sentence: (page, its random generator, the words)."""
    await asyncio.sleep(delay)
    page, rng = await new_page(browser, st), random.Random(seed)
    words = sentence(rng)
    await open_explore(page, url, words, st, args.timeout)
    return page, rng, words


async def explore(session, url, kind, st, args, stop_at=math.inf, count=None):
    """One person exploring: new sentence, wait for the grid, think; until stop_at, or `count` times back to back.
    `kind` (WS or browser_kind(...)) says how its client interacts and reloads."""
    client, rng, words = session
    tries = 0
    if count is None:  # people do not all press Enter in the same millisecond: start at a random point of a pause
        await asyncio.sleep(args.think * rng.uniform(0, 1))
    while time.perf_counter() < stop_at and tries != count:
        tries += 1
        words = sentence(rng, words)
        dt = await kind.interact(client, words, st, args.timeout)
        if dt is None:  # start over with a fresh page load
            await kind.reload(client, url, words, st, args.timeout)
        else:
            st.latencies.append(dt)
        if count is None:
            await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))


def progress(text, finished, seconds, out):
    """Update the training numbers from the progress line's text ("… (3 done) … 7,819 samples/s")."""
    if m := re.search(r"\((\d+) done\)", text):
        out["done"] = int(m[1])
    if m := re.search(r"([\d,]+) samples/s", text):
        out["samples_per_s"] = float(m[1].replace(",", ""))
    out.update(seconds=seconds, finished=finished)


def read_history(runs_dir, out):
    """Once finished, the epochs and mean samples/s the saved run's history holds."""
    for history in Path(runs_dir).glob("*/history.json") if out["finished"] else []:
        epochs = [e for e in json.loads(history.read_text())["epochs"] if not e.get("partial")]
        out.update(done=len(epochs), samples_per_s=sum(e["samples_per_s"] for e in epochs) / max(len(epochs), 1))


# Browser sessions: a Chromium context each.


async def open_trainer(browser, url, st, args):
    """The Train page with synthetic data and `--train-epochs` epochs filled in, not started yet."""
    page = await new_page(browser, st)
    page.set_default_timeout(args.timeout * 1000)
    await page.goto(url + "/train")
    await page.wait_for_selector(IDLE)
    await page.get_by_role("combobox", name="Dataset").click()
    await page.get_by_role("option", name=DATASETS["synthetic"]).click()
    await page.wait_for_selector(IDLE)
    for key in ("t_epochs", "t_patience"):  # patience = epochs: no early stop, so runs stay comparable
        await page.locator(f".st-key-{key} input").fill(str(args.train_epochs))
        await page.locator(f".st-key-{key} input").press("Enter")
        await page.wait_for_selector(IDLE)
    return page


async def train(page, runs_dir, st, args, stop_at, out):
    """Press Start, then read the progress line every second until done or stop_at; Stop it if unfinished."""
    await page.locator(".st-key-start_training button").click()
    t0 = time.perf_counter()
    out.update(epochs=args.train_epochs, finished=False, done=0)
    while time.perf_counter() < stop_at and not out["finished"]:
        await asyncio.sleep(1)
        text = ""
        with contextlib.suppress(PlaywrightError):  # no progress bar (loading, saving, done)
            text = await page.get_by_test_id("stProgress").first.inner_text(timeout=1000)
        progress(text, await page.get_by_text("Saved as").count() > 0, time.perf_counter() - t0, out)
        note("training:", text or ("finished" if out["finished"] else ""))
    if await page.locator(ERROR_BOXES).count():
        st.errors.update(["error box"])
    if not out["finished"]:
        with contextlib.suppress(PlaywrightError):
            await page.locator(".st-key-stop_training button").click(timeout=5000)
    read_history(runs_dir, out)


async def close_page(page, st):
    st.quiet.add(page)
    await page.context.close()


async def reload_page(page, url, words, st, timeout):
    st.quiet.add(page)
    await open_explore(page, url, words, st, timeout)
    st.quiet.discard(page)


def browser_kind(browser):
    """How browser sessions open, interact, reload, train and close."""
    return SimpleNamespace(open=partial(open_session, browser), interact=interact, reload=reload_page,
                           open_trainer=partial(open_trainer, browser), train=train, close=close_page)  # fmt: skip


# Websocket sessions (bench/wsclient.py).


def ws_failed(st, e):
    """Count a wait that ran out or a lost connection."""
    st.errors.update(["timeout" if isinstance(e, TimeoutError) else "websocket closed"])
    note("error", type(e).__name__, e)


def grid_sent(run, words, st):
    """Count the errors a run's messages show; True if among its charts is the grid of exactly these words."""
    st.errors.update(run.errors)
    labels = [json.dumps(f"{i}:{w}") for i, w in enumerate(words)]  # the x labels, as in the chart's JSON
    if any(all(label in chart.spec for label in labels) for chart in run.of("plotly_chart")):
        return True
    st.errors.update(["wrong grid" if run.of("plotly_chart") else "no chart"])
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
            progress(text, any("Saved as" in a.body for a in run.of("alert")), time.perf_counter() - t0, out)
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


WS = SimpleNamespace(open=ws_open_session, interact=ws_interact, reload=ws_load, open_trainer=ws_trainer,
                     train=ws_train, close=lambda session, st: session.close())  # fmt: skip


async def watch(pid, stop_at, out):
    """Peak server RSS, sampled every second; at the end, the cores the server, the clients and all used.
    Clients: this process and its children but the server (Chromium and Playwright's driver in browser mode)."""
    cpu0, wall0, server0, busy0 = tree_cpu(os.getpid()), time.perf_counter(), tree_cpu(pid), busy_cpu()
    while time.perf_counter() < stop_at:
        out["peak_rss_mb"] = max(out.get("peak_rss_mb", 0), rss_mb(pid))
        await asyncio.sleep(1)
    wall, server = time.perf_counter() - wall0, tree_cpu(pid) - server0
    out.update(server_cores=server / wall, client_cores=(tree_cpu(os.getpid()) - cpu0 - server) / wall)
    out.update(machine_cores=(busy_cpu() - busy0) / wall)


async def run(url, pid, runs_dir, args, base, load, out):
    """Baseline into `base`, load phase into `load`; training, memory and CPU into `out`."""
    async with contextlib.AsyncExitStack() as stack:
        kind = WS
        if args.clients == "browser":
            p = await stack.enter_async_context(async_playwright())
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            stack.push_async_callback(browser.close)
            kind = browser_kind(browser)
        # The first Train page in a process switches Streamlit's post-run garbage collection off for good
        # (ui.quiet_gc); the load phase has a Train page, so the baseline opens one first too.
        trainer = await kind.open_trainer(url, load, args)
        session = await kind.open(url, 0, base, args)
        await explore(session, url, kind, base, args, count=args.baseline)
        await kind.close(session[0], base)
        sessions = await asyncio.gather(*(kind.open(url, i + 1, load, args, 0.25 * i) for i in range(args.sessions)))
        stop_at = time.perf_counter() + args.seconds
        tasks = [kind.train(trainer, runs_dir, load, args, stop_at, out["training"]), watch(pid, stop_at, out)]
        await asyncio.gather(*tasks, *(explore(s, url, kind, load, args, stop_at) for s in sessions))
        await asyncio.gather(*(kind.close(c, load) for c in [trainer] + [s[0] for s in sessions]))


def report(args, base, load, out, server_errors):
    """Print the table; return the numbers."""
    kinds = dict(load.errors, **({"server traceback": server_errors} if server_errors else {}))
    p50, p95, b50, b95 = (percentile(st.latencies, q) * 1000 for st in (load, base) for q in (0.5, 0.95))
    r = dict(vars(args), json=None, interactions=len(load.latencies), errors=sum(kinds.values()), error_kinds=kinds)
    r.update(baseline_errors=dict(base.errors), p50_ms=p50, p95_ms=p95, single_p50_ms=b50, single_p95_ms=b95)
    r.update(p95_ratio=p95 / b95, page_load_p50_s=percentile(load.loads, 0.5), **out)
    r.update(page_load_p95_s=percentile(load.loads, 0.95))
    t, nan, ws = out["training"], math.nan, args.clients == "ws"
    progress = f"{t.get('done', 0)}/{t.get('epochs', '?')} epochs in {t.get('seconds', 0):.0f} s, "
    progress += f"{'' if t.get('finished') else 'not '}finished, {t.get('samples_per_s', 0):,.0f} samples/s"
    latency = ("websocket clients. Latency = rerun request sent -> script_finished received, with the new grid"
               if ws else "browser pages. Latency = Enter -> every heatmap drawn")  # fmt: skip
    print(f"{MODEL}; {args.sessions} sessions for {args.seconds} s, about {args.think} s between sentences, while "
          f"one more trains; baseline: 1 session, {args.baseline} sentences back to back. All sessions are "
          f"{latency}.{' CUT SHORT by the time limit.' if out.get('cut') else ''}")  # fmt: skip
    print()
    print("| sessions | interactions | errors | p50 | p95 | single-user p50 / p95 | p95 ratio (goal <= 2x) "
          "| training while loaded | peak server RSS |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.sessions} + 1 training | {r['interactions']} | {r['errors']} | {p50:.0f} ms | {p95:.0f} ms "
        f"| {b50:.0f} / {b95:.0f} ms | {r['p95_ratio']:.2f}x | {progress} | {out.get('peak_rss_mb', nan):.0f} MB |"
    )
    print()
    clients = "the websocket clients (this process)" if ws else "browsers + Playwright"
    print(f"First page loads ({args.sessions} at once, 0.25 s apart): p50 {r['page_load_p50_s']:.1f} s, "
          f"p95 {r['page_load_p95_s']:.1f} s. CPU in the load phase (cores): server "
          f"{out.get('server_cores', nan):.2f}, {clients} {out.get('client_cores', nan):.2f}, "
          f"whole machine {out.get('machine_cores', nan):.2f} of {os.cpu_count()}.")  # fmt: skip
    if kinds or base.errors:
        print(f"Errors by kind: {kinds}; during the baseline: {dict(base.errors)}.")
    return r


def server_tracebacks(proc):
    """How many tracebacks the server has logged (start_server sends its output to a file)."""
    proc.log.seek(0)
    return proc.log.read().count(b"Traceback")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", choices=["ws", "browser"], default="ws", help="what all sessions are")
    ap.add_argument("--sessions", type=int, default=12, help="concurrent exploring sessions (besides the trainer)")
    ap.add_argument("--seconds", type=int, default=60, help="length of the load phase")
    ap.add_argument("--baseline", type=int, default=20, help="sentences in the single-user baseline")
    ap.add_argument("--think", type=float, default=2.0, help="mean pause between a session's sentences, s")
    ap.add_argument("--timeout", type=float, default=30.0, help="longest wait for one grid or page, s")
    ap.add_argument("--train-epochs", type=int, default=10)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--verbose", action="store_true", help="log every page load, interaction and training line")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose

    runs_dir = tempfile.mkdtemp(prefix="load-runs-")
    proc, url = start_server(runs_dir)
    hard = args.seconds + 150  # the baseline, the first page loads and the trainer's form fit in 150 s
    watchdog = threading.Timer(hard + 30, lambda: (proc.kill(), os._exit(3)))  # if even the cleanup hangs
    watchdog.start()
    base, load, out = stats(), stats(), {"training": {}}
    try:
        asyncio.run(asyncio.wait_for(run(url, proc.pid, runs_dir, args, base, load, out), hard))
    except TimeoutError:
        out["cut"] = True
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        watchdog.cancel()
    result = report(args, base, load, out, server_tracebacks(proc))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

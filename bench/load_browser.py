"""bench/load.py's browser sessions: one headless Chromium, a context per session.

Imported by bench/load.py, which puts the repository and bench/ on sys.path.
"""

import asyncio
import contextlib
import json
import random
import time
from functools import partial
from types import SimpleNamespace

from load_common import MODEL, note, progress, read_history, sentence
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from attention.data.registry import DATASETS
from tools.browser import CHROMIUM, CHROMIUM_ARGS, GRIDS_JS, IDLE

PANELS = 5  # 4 heads + their average
ERROR_BOXES = "[data-testid=stException], [data-testid=stAlertContentError]"


def failed(st, e):
    """Count a wait that ran out, or the browser failing (a crashed page, say)."""
    st.errors.update(["timeout" if isinstance(e, PlaywrightTimeout) else "browser error"])
    note("error", str(e).splitlines()[0])


async def new_page(browser, st):
    page = await (await browser.new_context(viewport={"width": 1400, "height": 1000})).new_page()
    page.on("pageerror", lambda e: st.errors.update(["page exception"]))
    closed = lambda ws: page in st.quiet or st.errors.update(["websocket closed"])
    page.on("websocket", lambda ws: ws.on("close", closed))
    return page


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
    box = page.get_by_label("Sentence", exact=True)
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


async def browser_kind(stack):
    """Launch headless Chromium (shut with `stack`); how browser sessions open, interact, reload, train and close."""
    p = await stack.enter_async_context(async_playwright())
    browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    stack.push_async_callback(browser.close)
    return SimpleNamespace(
        open=partial(open_session, browser),
        interact=interact,
        reload=reload_page,
        open_trainer=partial(open_trainer, browser),
        train=train,
        close=close_page,
    )

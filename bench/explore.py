"""Explore page speed: server time per interaction, browser time from Enter to every heatmap drawn, hover, and
the peer (inspectus, bench/peer.py) in the same run.

python bench/explore.py            # every table (starts its own streamlit server and Chromium)
python bench/explore.py --server   # only the server-side table
python bench/explore.py --json out.json   # also write the numbers (one row per model and size)
python bench/explore.py --models minilm-tweets --sizes 32 128 256 512   # MiniLM: 12 heads a layer, word pieces

Sizes above a model's longest input are skipped (the small models read 128 tokens, MiniLM 512). Drawn = the
layer's grid shows the new sentence and every canvas on the page (MiniLM: the 72 thumbnails and the views across
layers too) has been redrawn since Enter. Hover = the mouse moved onto a cell of the grid -> its tooltip shows it.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from attention.analysis.sentence import Masks, analyze, panels  # noqa: E402
from attention.training.checkpoints import MODELS_DIR, load_run  # noqa: E402
from attention.viz import packed, style  # noqa: E402
from bench import peer  # noqa: E402
from bench.cli import app_in_chromium, median_ms  # noqa: E402
from tools.browser import CANVASES  # noqa: E402

SIZES = (8, 32, 128, 256, 512)
MODELS = ("tweets-1h", "tweets-8h", "minilm-tweets")
WORDS = "the flight was not good at all and my bag is lost but the crew were great thanks".split()
SHORT = "a b c d e f g h i j k l m n o p q r s t u v w x y z".split()


def sentence(n, shift=0, run=None):
    """n tokens as `run`'s tokenizer reads them: n words, or n - 2 for MiniLM's [CLS] ... [SEP] (these words are
    one piece each)."""
    n -= 2 * (run is not None and run.meta.get("encoder") is not None)
    words = WORDS if n <= 128 else SHORT  # Explore reads 2,000 characters: 510 of WORDS would not fit
    return " ".join(words[(i + shift) % len(words)] for i in range(n))


def fitting(sizes, run):
    return [n for n in sizes if n <= run.model.cfg.max_len]


def server_table(models=MODELS, sizes=SIZES):
    """Print the server-side table; return its rows."""
    rows = []
    torch.set_num_threads(2)
    print("Server side, median of 20 (ms): tokenize + forward, the grid packed as the message Streamlit sends")
    print()
    print("| model | tokens | tokenize + forward | pack the grid | total | message |")
    print("|---|---|---|---|---|---|")
    for name in models:
        run = load_run(MODELS_DIR / name)
        for n in fitting(sizes, run):
            text = sentence(n, run=run)
            a = analyze(run.model, run.tokenizer, text, Masks())
            assert len(a.tokens) == n
            stack, titles, _ = panels(a.weights[0])
            grid = lambda a=a, s=stack, t=titles: packed.pack(s, style.axis_labels(a.tokens), t, wrap=4)
            kb = len(grid()) / 1024
            t1 = median_ms(lambda r=run, t=text: analyze(r.model, r.tokenizer, t, Masks()))
            t2 = median_ms(grid)
            print(f"| {name} | {n} | {t1:.1f} | {t2:.1f} | {t1 + t2:.1f} | {kb:,.0f} KB |")
            rows.append(dict(model=name, tokens=n, forward_ms=t1, pack_ms=t2, total_ms=t1 + t2, message_kb=kb))
    return rows


def browser_table(models=MODELS, sizes=SIZES, repeats=10):
    """Print the browser table; return its rows."""
    rows = []
    print()
    print(f"Browser (headless Chromium, 1400x1000): Enter -> every heatmap drawn, and hover, median of {repeats} (ms)")
    print()
    print("| model | tokens | heatmaps | median | min | max | hover |")
    print("|---|---|---|---|---|---|---|")
    with app_in_chromium() as (url, browser):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for name in models:
            run = load_run(MODELS_DIR / name)
            panels_n = run.model.cfg.num_heads + (run.model.cfg.num_heads > 1)
            page.goto(f"{url}/?model={name}&text=warm+up")
            page.wait_for_function(f"() => ({GRID_JS})({panels_n}, 0)", timeout=60_000)
            for n in fitting(sizes, run):
                times = [enter_ms(page, run, n, i + 1, panels_n) for i in range(repeats + 1)][1:]  # 1st: warm-up
                hover = statistics.median(hover_ms(page, panels_n, i) for i in range(repeats))
                med, lo, hi = statistics.median(times), min(times), max(times)
                print(f"| {name} | {n} | {panels_n} | {med:.0f} | {lo:.0f} | {hi:.0f} | {hover:.0f} |")
                row = dict(model=name, tokens=n, heatmaps=panels_n, median_ms=med, min_ms=lo, max_ms=hi)
                rows.append(dict(row, hover_ms=hover))
        links = {name: link_ms(browser, url, name) for name in models}
    print()
    print("A shared link (32 tokens) opened in a fresh browser -> every heatmap drawn, median of 5 (ms)")
    print()
    print("| model | median | min | max |")
    print("|---|---|---|---|")
    for name, times in links.items():
        print(f"| {name} | {statistics.median(times):.0f} | {min(times):.0f} | {max(times):.0f} |")
    return rows, {name: statistics.median(times) for name, times in links.items()}


def link_ms(browser, url, name, repeats=5):
    """A fresh browser context (nothing cached) opens Explore's link with a 32-token sentence: ms to every canvas
    drawn, the first try a warm-up of the server's caches."""
    run = load_run(MODELS_DIR / name)
    panels_n = run.model.cfg.num_heads + (run.model.cfg.num_heads > 1)
    times = []
    for i in range(repeats + 1):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(f"{url}/?model={name}&text={sentence(32, shift=20 + i, run=run).replace(' ', '+')}")
        page.wait_for_function(f"() => ({GRID_JS})({panels_n}, 0)", timeout=60_000, polling="raf")
        times.append((time.perf_counter() - t0) * 1000)
        ctx.close()
    return times[1:]


# The layer's grid (n panels, showing tokens `x1` and `length`... when given), drawn; and every canvas on the page
# redrawn after `since` (the page's Date.now() at Enter).
GRID_JS = (
    """(n, since, x1, length) => {
  const all = """
    + CANVASES
    + """;
  const grid = all.find(c => c.hm.n === n && c.hm.drawn === n && (x1 === undefined || c.hm.x[1] === x1)
    && (length === undefined || c.hm.x.length === length));
  return grid && all.every(c => Number(c.dataset.drawn) > since) ? true : false;
}"""
)


def enter_ms(page, run, n, shift, panels_n):
    """Enter pressed on a new sentence of n tokens -> the grid shows it and every canvas was redrawn."""
    text = sentence(n, shift=shift, run=run)
    box = page.get_by_label("Sentence", exact=True)
    box.fill(text)
    second = f"1:{analyze(run.model, run.tokenizer, text).tokens[1]}"  # [CLS] is always first
    since = page.evaluate("Date.now()")
    t0 = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(f"() => ({GRID_JS})({panels_n}, {since}, {json.dumps(second)}, {n})", polling="raf")
    return (time.perf_counter() - t0) * 1000


def hover_ms(page, panels_n, k):
    """The mouse moved onto another cell of the grid's first panel -> the tooltip shows that cell's value (it
    changed: cells a few px wide are hit to within a cell, so the test is a change, not a label)."""
    find = "[...document.querySelectorAll('canvas.hm-canvas')].find(c => c.hm && c.hm.n === n)"
    info = page.evaluate(
        f"""(n) => {{ const c = {find}; c.scrollIntoView(); const r = c.getBoundingClientRect(), b = c.hm.boxes[0];
        const tip = c.parentElement.querySelector('.hm-tip');
        return {{x: r.left + b.x, y: r.top + b.y, w: b.w, h: b.h, before: tip.textContent}}; }}""",
        panels_n,
    )
    at = [(0.25, 0.75), (0.75, 0.25)][k % 2]  # two cells far apart, in turn
    x, y = info["x"] + at[0] * info["w"], info["y"] + at[1] * info["h"]
    t0 = time.perf_counter()
    page.mouse.move(x, y)
    tip = f"(n) => {{ const t = ({find}).parentElement.querySelector('.hm-tip');"
    tip += f" return t.style.display === 'block' && t.textContent !== {json.dumps(info['before'])}; }}"
    page.wait_for_function(tip, arg=panels_n, polling="raf")
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", action="store_true", help="only the server-side table")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--sizes", nargs="+", type=int, default=SIZES)
    args = ap.parse_args()
    numbers = dict(server=server_table(args.models, args.sizes))
    if not args.server:
        numbers["browser"], numbers["link"] = browser_table(args.models, args.sizes)
        numbers["peer"] = peer.table([n for n in args.sizes if n in (32, 128)])  # the sizes; 256 breaks it
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))

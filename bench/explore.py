"""Explore page speed: server time per interaction, and browser time from Enter to every heatmap drawn.

python bench/explore.py            # both tables (starts its own streamlit server and Chromium)
python bench/explore.py --server   # only the server-side table
python bench/explore.py --json out.json   # also write the numbers (one row per model and size)
python bench/explore.py --models minilm-tweets --sizes 32 128 256 512   # MiniLM: 12 heads a layer, word pieces
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
from attention.viz import attention_maps, style  # noqa: E402
from bench.cli import median_ms  # noqa: E402

SIZES = (8, 32, 128)
MODELS = ("tweets-1h", "tweets-8h")
WORDS = "the flight was not good at all and my bag is lost but the crew were great thanks".split()
SHORT = "a b c d e f g h i j k l m n o p q r s t u v w x y z".split()


def sentence(n, shift=0, run=None):
    """n tokens as `run`'s tokenizer reads them: n words, or n - 2 for MiniLM's [CLS] ... [SEP] (these words are
    one piece each)."""
    n -= 2 * (run is not None and run.meta.get("encoder") is not None)
    words = WORDS if n <= 128 else SHORT  # Explore reads 2,000 characters: 510 of WORDS would not fit
    return " ".join(words[(i + shift) % len(words)] for i in range(n))


def server_table(models=MODELS, sizes=SIZES):
    """Print the server-side table; return its rows."""
    rows = []
    torch.set_num_threads(2)
    print("Server side, median of 20 (ms): tokenize + forward, figure build, figure to JSON (what Streamlit sends)")
    print()
    print("| model | tokens | tokenize + forward | build figure | serialise | total |")
    print("|---|---|---|---|---|---|")
    for name in models:
        run = load_run(MODELS_DIR / name)
        for n in sizes:
            text = sentence(n, run=run)
            a = analyze(run.model, run.tokenizer, text, Masks())
            assert len(a.tokens) == n
            stack, titles, _ = panels(a.weights[0])
            grid = lambda a=a, s=stack, t=titles: attention_maps.heatmaps(s, style.axis_labels(a.tokens), t, wrap=4)
            fig = grid()
            t1 = median_ms(lambda r=run, t=text: analyze(r.model, r.tokenizer, t, Masks()))
            t2 = median_ms(grid)
            t3 = median_ms(lambda f=fig: f.to_json(engine="orjson"))
            print(f"| {name} | {n} | {t1:.1f} | {t2:.1f} | {t3:.1f} | {t1 + t2 + t3:.1f} |")
            rows.append(dict(model=name, tokens=n, forward_ms=t1, figure_ms=t2, serialise_ms=t3, total_ms=t1 + t2 + t3))
    return rows


def browser_table(models=MODELS, sizes=SIZES, repeats=10):
    """Print the browser table; return its rows."""
    import tempfile

    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM, CHROMIUM_ARGS, GRIDS_JS, start_server

    proc, url = start_server(tempfile.mkdtemp())
    rows = []
    print()
    print(f"Browser (headless Chromium, 1400x1000): Enter pressed -> every heatmap drawn, median of {repeats} (ms)")
    print()
    print("| model | tokens | heatmaps | median | min | max |")
    print("|---|---|---|---|---|---|")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name in models:
                run = load_run(MODELS_DIR / name)
                heads = run.model.cfg.num_heads
                panels_n = heads + (heads > 1)
                page.goto(f"{url}/?model={name}&text=warm+up")
                page.wait_for_function(f"() => ({GRIDS_JS})().some(g => g.drawn === {panels_n})", timeout=60_000)
                box = page.get_by_label("Sentence")
                for n in sizes:
                    times = []
                    for i in range(repeats + 1):
                        text = sentence(n, shift=i + 1, run=run)
                        box.fill(text)
                        second = f"1:{analyze(run.model, run.tokenizer, text).tokens[1]}"  # [CLS] is always first
                        check = f"() => ({GRIDS_JS})().some(g => g.drawn === {panels_n} && g.x[1] === '{second}'"
                        check += f" && g.x.length === {n})"
                        t0 = time.perf_counter()
                        box.press("Enter")
                        page.wait_for_function(check, timeout=60_000, polling="raf")
                        if i:  # the first of each size warms plotly's layout for it
                            times.append((time.perf_counter() - t0) * 1000)
                    med, lo, hi = statistics.median(times), min(times), max(times)
                    print(f"| {name} | {n} | {panels_n} | {med:.0f} | {lo:.0f} | {hi:.0f} |")
                    rows.append(dict(model=name, tokens=n, heatmaps=panels_n, median_ms=med, min_ms=lo, max_ms=hi))
            browser.close()
    finally:
        proc.terminate()
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", action="store_true", help="only the server-side table")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--sizes", nargs="+", type=int, default=SIZES)
    args = ap.parse_args()
    numbers = dict(server=server_table(args.models, args.sizes))
    if not args.server:
        numbers["browser"] = browser_table(args.models, args.sizes)
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))

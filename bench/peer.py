"""The peer Explore is measured against: inspectus (PyPI, a static D3 widget for notebooks), fed our model's real
attention, drawn in the same Chromium as the app (bench/explore.py runs it in the same run).

    python bench/peer.py --sizes 32 128     # a table on its own: open the page -> its attention matrix drawn

inspectus.attention() writes an HTML cell for Jupyter; the page here is that cell's HTML, made with inspectus's
own functions (parse_attn, convert_b64, parse_colors) and its packaged charts.js and charts.css, so what is
timed is inspectus's code on its own data format. Drawn = its matrix has one SVG rect per weight (T x T; it draws
one matrix at a time, the layers' and heads' mean until one is picked).
"""

import json
import pkgutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHARTS = ["attention_matrix", "query_token_heatmap", "key_token_heatmap", "dimension_heatmap"]  # its default


def inspectus_page(weights, tokens):
    """The HTML inspectus.attention(weights, tokens) shows in a notebook, as a page. weights: (L, H, T, T)."""
    from inspectus.attention_viz import parse_attn, parse_colors
    from inspectus.utils import convert_b64

    maps, dims = parse_attn(weights)
    attention = [dict(values=convert_b64(m.matrix), info=m.info, shape=m.matrix.shape) for m in maps]
    data = dict(attention=attention, src_tokens=tokens, tgt_tokens=tokens, chart_types=CHARTS, dimensions=dims)
    js = pkgutil.get_data("inspectus", "static/js/charts.js").decode()
    css = pkgutil.get_data("inspectus", "static/css/charts.css").decode()
    embed = f"window.chartsEmbed('chart', {json.dumps(data)}, {parse_colors(None)}, 'light')"
    return f"<html><head><style>{css}</style></head><body><div id='chart'></div><script>{js}</script><script>{embed}</script></body></html>"  # noqa: E501


def inspectus_ms(page, weights, tokens, repeats=10):
    """Median, min and max ms from opening the page to its matrix drawn; the first load is a warm-up."""
    path = Path(tempfile.mkdtemp()) / "inspectus.html"
    path.write_text(inspectus_page(weights, tokens))
    cells = len(tokens) ** 2
    times = []
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function(f"() => document.querySelectorAll('#chart rect').length >= {cells}", polling="raf")
        if i:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times), max(times)


def minilm_attention(n):
    """MiniLM's (L, H, T, T) attention and tokens for bench/explore.py's sentence of n tokens."""
    import numpy as np

    from attention.analysis.sentence import analyze
    from attention.training.checkpoints import MODELS_DIR, load_run
    from bench.explore import sentence

    run = load_run(MODELS_DIR / "minilm-tweets")
    a = analyze(run.model, run.tokenizer, sentence(n, run=run))
    return np.stack(a.weights), a.tokens


def table(sizes, repeats=10):
    """Print inspectus's table; return its rows [{tokens, median_ms, min_ms, max_ms}]."""
    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM, CHROMIUM_ARGS

    print()
    print(f"Peer: inspectus 0.2 drawing MiniLM's real attention (6 x 12 heads), open -> drawn, median of {repeats} ms")
    print()
    print("| tokens | median | min | max |")
    print("|---|---|---|---|")
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for n in sizes:
            med, lo, hi = inspectus_ms(page, *minilm_attention(n), repeats)
            print(f"| {n} | {med:.0f} | {lo:.0f} | {hi:.0f} |")
            rows.append(dict(tokens=n, median_ms=med, min_ms=lo, max_ms=hi))
        browser.close()
    return rows


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[32, 128])
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    table(args.sizes, args.repeats)

"""Cold start and memory of the served app, beside a bare Streamlit app.

    python bench/serve.py                          # prints a markdown table
    python bench/serve.py --model minilm-tweets    # sessions on the pretrained encoder's model
    python bench/serve.py --json out.json          # and writes its numbers

Cold start: from launching `streamlit run` to /_stcore/health answering, to the first page drawn in headless
Chromium (Explore's title and its sentence box holding the example a first visit opens on; a bare app: one line of
text), to that example's prediction, and to Explore showing a prediction and its heatmaps from a link naming --model.
Memory: the server's resident set size after 1 and after 5 browser sessions have each drawn a
sentence's heatmaps with --model.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from playwright.sync_api import sync_playwright  # noqa: E402

from attention.app.scope import EXAMPLES  # noqa: E402
from tools.browser import CHROMIUM, CHROMIUM_ARGS, rss_mb, start_server  # noqa: E402

SENTENCES = [
    "the flight was not good at all",
    "thanks for the great service",
    "my bag is lost",
    "great crew",
    "late again",
]
BARE = 'import streamlit as st\n\nst.write("ready")\n'
FIRST_PAGE = f".st-key-text input[value='{EXAMPLES['tweets'][0]}']"  # Explore's box, holding a first visit's example


def open_explore(browser, url, text, model):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/?{urlencode(dict(text=text, model=model))}")
    page.get_by_test_id("stMetricValue").wait_for(timeout=120_000)
    page.wait_for_selector("canvas.hm-canvas[data-drawn]", timeout=120_000)
    return page


def cold_start(browser, script, ready, model):
    """(process, url, seconds to health, to the first page (`ready` is a selector), and for the app to the first
    visit's example predicted, to a link's prediction)."""
    t0 = time.perf_counter()
    proc, url = start_server(tempfile.mkdtemp(), script=script)
    healthy = time.perf_counter() - t0
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector(ready, timeout=120_000)
    first = time.perf_counter() - t0
    example = predicted = None
    if script == "app.py":
        page.get_by_test_id("stMetricValue").wait_for(timeout=120_000)
        example = time.perf_counter() - t0
        open_explore(browser, url, SENTENCES[0], model).close()
        predicted = time.perf_counter() - t0
    page.close()
    return proc, url, healthy, first, example, predicted


def main(model="tweets-4h", repeats=3):
    bare = Path(tempfile.mkdtemp()) / "bare.py"
    bare.write_text(BARE)
    apps, bares = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(repeats):
            proc, _, *times = cold_start(browser, str(bare), "text=ready", model)
            proc.terminate()
            proc.wait()
            bares.append(times)
        for i in range(repeats):
            proc, url, *times = cold_start(browser, "app.py", FIRST_PAGE, model)
            if i < repeats - 1:
                proc.terminate()
                proc.wait()
            apps.append(times)
        first = open_explore(browser, url, SENTENCES[1], model)  # memory on the last server
        one = rss_mb(proc.pid)
        pages = (
            [first]
            + [open_explore(browser, url, s, model) for s in SENTENCES[2:]]
            + [open_explore(browser, url, "ok", model)]
        )
        time.sleep(1)
        five = rss_mb(proc.pid)
        assert urllib.request.urlopen(url + "/_stcore/health").read() == b"ok"
        for pg in pages:
            pg.close()
        proc.terminate()
        browser.close()
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    out = dict(
        bare_health_s=med(bares, 0),
        bare_first_page_s=med(bares, 1),
        health_s=med(apps, 0),
        first_page_s=med(apps, 1),
        example_s=med(apps, 2),
        prediction_s=med(apps, 3),
        rss_1_session_mb=one,
        rss_5_sessions_mb=five,
    )
    ratio = out["first_page_s"] / out["bare_first_page_s"]
    print(f"Median of {repeats} cold starts each; sessions on {model}; memory = server RSS (one process).")
    print()
    print("| measure | goal | bare Streamlit app | this app |")
    print("|---|---|---|---|")
    print(f"| launch -> /_stcore/health ok | - | {out['bare_health_s']:.1f} s | {out['health_s']:.1f} s |")
    print(f"| launch -> first page drawn | <= 1.5x bare | {out['bare_first_page_s']:.1f} s | "
          f"{out['first_page_s']:.1f} s ({ratio:.2f}x) |")  # fmt: skip
    print(f"| launch -> a first visit's example predicted (tweets-4h) | - | - | {out['example_s']:.1f} s |")
    print(f"| launch -> a link to Explore shows a prediction and heatmaps | - | - | {out['prediction_s']:.1f} s |")
    print(f"| server RSS, 1 session | <= 500 MB | - | {one:.0f} MB |")
    print(f"| server RSS, 5 sessions | <= 690 MB | - | {five:.0f} MB |")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tweets-4h")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    numbers = main(args.model)
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))

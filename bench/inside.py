"""Inside a head in Chromium: a sentence typed -> the page finished, a head switched -> finished, and a shared link
opened in a fresh browser -> finished (issue 15's targets: 1.5 s, 500 ms, 3 s).

    python bench/inside.py                       # tweets-4h and minilm-tweets, median of 5
    python bench/inside.py --json out.json

Finished = the script has stopped, nothing on the page is stale, the view shows what was asked (the new sentence's
row in the embedding table, the head's heading), the canvas of section 6 shows it too, and every canvas of
heatmaps and plotly chart on show has been drawn.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.cli import app_in_chromium  # noqa: E402

MODELS = ("tweets-4h", "minilm-tweets")
WORDS = "great crew thanks but my bag is lost again and nobody answers the phone".split()
FINISHED_JS = """([text, drawn]) => {
  const app = document.querySelector("[data-testid='stApp']");
  const busy = !app || app.dataset.testScriptState !== 'notRunning';
  if (busy || document.querySelector("[data-stale='true']") || !document.body.innerText.includes(text)) return false;
  const canvases = [...document.querySelectorAll('canvas.hm-canvas')].filter(c => c.offsetParent);
  if (!canvases.every(c => c.hm && c.hm.drawn === c.hm.n)) return false;
  if (!canvases.some(c => JSON.stringify([c.hm.titles, c.hm.x]).includes(drawn))) return false;
  const charts = [...document.querySelectorAll('.js-plotly-plot')].filter(d => d.offsetParent);
  return charts.every(d => d._fullData);
}"""


def text(i):
    return " ".join(WORDS[(i + k) % len(WORDS)] for k in range(8))


def timed(page, action, text, drawn):
    """ms from action() to the page finished: `text` on the page, a canvas drawn with `drawn` in its titles or
    labels (section 6's, below most of the page), every canvas and chart drawn."""
    t0 = time.perf_counter()
    action()
    page.wait_for_function(FINISHED_JS, arg=[text, drawn], timeout=120_000, polling="raf")
    return (time.perf_counter() - t0) * 1000


def measure(browser, url, model, repeats):
    """{sentence_ms, head_ms, link_ms}: lists of times."""
    out = dict(sentence_ms=[], head_ms=[], link_ms=[])
    for i in range(repeats + 1):  # the first of each is a warm-up
        times = one_visit(browser, url, model, i)
        if i:
            for key, value in zip(out, times):
                out[key].append(value)
    return out


def one_visit(browser, url, model, i):
    """A fresh browser opens a shared link, types another sentence, switches to head 2: three times in ms."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    link = f"{url}/inside?{urlencode(dict(model=model, text=text(i), head=1))}"
    opened = timed(page, lambda: page.goto(link), "of head 1 (", "head 1's share")
    box = page.get_by_label("Sentence", exact=True)
    box.fill("pilot " + text(i + 5))  # "pilot" is not in WORDS: its row in the embedding table shows the new sentence
    typed = timed(page, lambda: box.press("Enter"), ":pilot →", ":pilot")
    switched = timed(
        page, page.locator(".st-key-head button", has_text="2").first.click, "of head 2 (", "head 2's share"
    )
    ctx.close()
    return typed, switched, opened


def main(models=MODELS, repeats=5):
    rows = []
    print(f"Inside a head in headless Chromium (1400x1000), median of {repeats} (min-max), ms")
    print()
    print("| model | sentence typed -> finished | head switched -> finished | shared link, fresh browser -> finished |")
    print("|---|---|---|---|")
    with app_in_chromium() as (url, browser):
        for model in models:
            times = measure(browser, url, model, repeats)
            cells = [f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})" for v in times.values()]
            print(f"| {model} | " + " | ".join(cells) + " |")
            rows.append(dict(model=model, **{k: statistics.median(v) for k, v in times.items()}))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = main(args.models, args.repeats)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))

"""Cold start and memory of the served app.

    python bench/serve.py                  # prints a markdown table
    python bench/serve.py --json out.json  # and writes its numbers

Cold start: from launching `streamlit run app.py` to /_stcore/health answering, and to the Explore page
showing a prediction in headless Chromium (first visit, with a sentence in the URL). Memory: the server's
resident set size after 1 and after 5 browser sessions have each drawn a sentence's heatmaps.
"""

import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from playwright.sync_api import sync_playwright  # noqa: E402

from bench import cli  # noqa: E402
from tools.browser import CHROMIUM, CHROMIUM_ARGS, rss_mb, start_server  # noqa: E402

SENTENCES = [
    "the flight was not good at all",
    "thanks for the great service",
    "my bag is lost",
    "great crew",
    "late again",
]


def open_explore(browser, url, text):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/?text={text.replace(' ', '+')}")
    page.get_by_test_id("stMetricValue").wait_for(timeout=60_000)
    page.wait_for_selector("g.hm image", timeout=60_000)
    return page


def cold_start(browser):
    t0 = time.perf_counter()
    proc, url = start_server(tempfile.mkdtemp())
    healthy = time.perf_counter() - t0
    page = open_explore(browser, url, SENTENCES[0])
    ready = time.perf_counter() - t0
    page.close()
    return proc, url, healthy, ready


def main(repeats=3):
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(repeats):
            proc, url, healthy, ready = cold_start(browser)
            if i < repeats - 1:
                proc.terminate()
                proc.wait()
            rows.append((healthy, ready))
        # memory on the last server
        first = open_explore(browser, url, SENTENCES[1])
        one = rss_mb(proc.pid)
        pages = [first] + [open_explore(browser, url, s) for s in SENTENCES[2:]] + [open_explore(browser, url, "ok")]
        time.sleep(1)
        five = rss_mb(proc.pid)
        assert urllib.request.urlopen(url + "/_stcore/health").read() == b"ok"
        for pg in pages:
            pg.close()
        proc.terminate()
        browser.close()
    health = statistics.median(r[0] for r in rows)
    ready = statistics.median(r[1] for r in rows)
    print(f"Median of {repeats} cold starts; memory = server RSS (one process).")
    print()
    print("| measure | target | measured |")
    print("|---|---|---|")
    print(f"| cold start: launch -> /_stcore/health ok | - | {health:.1f} s |")
    print(f"| cold start: launch -> Explore shows a prediction and heatmaps | <= 5 s | {ready:.1f} s |")
    print(f"| server RSS, 1 session | <= 500 MB | {one:.0f} MB |")
    print(f"| server RSS, 5 sessions | <= 690 MB | {five:.0f} MB |")
    return dict(cold_start_health_s=health, cold_start_ready_s=ready, rss_1_session_mb=one, rss_5_sessions_mb=five)


if __name__ == "__main__":
    cli.run(main)

"""How long Stop takes on the Train page: from the click to "Stopped by you … Saved as" on screen.

python bench/stop.py              # 1 and 2 layers, 3 stops each; about 2 minutes
python bench/stop.py --json out.json

The Train page promises that Stop saves the best model so far and shows it in about 2 s. Each try
starts a training on the tweets with the page's defaults (2 layers: 2 heads), waits until the first epoch has
ended (the probe heads and reports are drawn from then on: a page that fails there redraws slowly), clicks Stop
and times the saved message. One browser, one training at a time.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from playwright.sync_api import sync_playwright  # noqa: E402

from tools.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server  # noqa: E402


def fill(pg, key, value):
    box = pg.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    pg.wait_for_selector(IDLE)


def one_stop(pg, url, heads, layers):
    """Seconds from clicking Stop to the saved message, and whether an exception box was ever shown."""
    pg.goto(url + "/train")
    pg.wait_for_selector(IDLE)
    fill(pg, "t_heads", heads)
    fill(pg, "t_layers", layers)
    fill(pg, "t_epochs", 50)
    fill(pg, "t_patience", 50)
    pg.locator(".st-key-start_training button").click()
    pg.get_by_text("(1 done)").wait_for(timeout=120_000)  # the first epoch has ended
    pg.wait_for_timeout(2000)  # the page has redrawn the epoch's probes and reports
    t0 = time.perf_counter()
    pg.locator(".st-key-stop_training button").click()
    pg.locator("[data-testid='stAlert']", has_text="Stopped by you").filter(has_text="Saved as").wait_for(
        timeout=120_000
    )  # the status line (earlier tries' runs are listed in the runs table, with the same note)
    return time.perf_counter() - t0, pg.locator("[data-testid='stException']").count() > 0


def main(repeats):
    rows = []
    proc, url = start_server(tempfile.mkdtemp())
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for heads, layers in ((4, 1), (2, 2)):
                times, crashed = [], False
                for _ in range(repeats):
                    pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    pg.set_default_timeout(60_000)
                    seconds, exc = one_stop(pg, url, heads, layers)
                    times.append(seconds)
                    crashed |= exc
                    pg.context.close()
                rows.append(dict(heads=heads, layers=layers, times=times, exception_shown=crashed))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print("| model | stops | median click → saved | max | exception box shown |")
    print("|---|---|---|---|---|")
    for r in rows:
        t = r["times"]
        model, shown = f"{r['layers']} layer × {r['heads']} heads", "yes" if r["exception_shown"] else "no"
        print(f"| {model} | {len(t)} | {statistics.median(t):.2f} s | {max(t):.2f} s | {shown} |")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    numbers = main(args.repeats)
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))

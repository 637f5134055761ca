"""What the benches share: the command line of those with no options of their own (`--json out.json` also writes
the numbers), and the median time of a call."""

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path


def run(main):
    """Run main() (which prints its table) and write the numbers it returns to --json, if given."""
    ap = argparse.ArgumentParser(description=main.__module__)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    numbers = main()
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))


def median_ms(fn, repeats=20, warm=0):
    """The median of `repeats` timed calls of fn(), in ms, after `warm` untimed ones."""
    for _ in range(warm):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


@contextlib.contextmanager
def app_in_chromium():
    """`streamlit run app.py` on an empty runs folder, and a headless Chromium: yields (url, browser)."""
    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM, CHROMIUM_ARGS, start_server

    proc, url = start_server(tempfile.mkdtemp())
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield url, browser
            browser.close()
    finally:
        proc.terminate()

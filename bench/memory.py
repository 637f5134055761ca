"""Does the app give memory back? The server's RSS, and the PSS of the server with its training workers, at start,
after N browser sessions and M trainings, and after.

    python bench/memory.py                         # 20 sessions, 5 trainings; about 4 minutes
    python bench/memory.py --sessions 60 --trainings 14 --json out.json

Start: the server is up and a first round of four visitors has used each page once (Explore with a prediction,
Inside a head, Heads lab, Train): torch, a model and what each page imports once (scikit-learn and SciPy for the
Heads lab, Dask's client for Train) are loaded, the floor of a server whose pages have all been used. The
pages import these when first visited, not at start, so a server whose visitors only explore stays about 150 MB
smaller (bench/serve.py). Then N sessions, one after another, each in a fresh browser context, visit one page each
in turn (Explore with a sentence, Inside a head, Heads lab, Train); M of the Train visits train the tweets for
one epoch and wait for "Saved as". "Busy" is the RSS with the last session still open; "after" once every
session has closed and the server has been left alone for --idle seconds. The goal: after within 100 MB of start.
The trainings run on worker processes that the embedded cluster starts on demand and retires after
ATTENTION_WORKER_IDLE_S (60 s by default; this bench sets 20 s), so "after" counts the workers that are left.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from playwright.sync_api import sync_playwright  # noqa: E402

from tools.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, app_pss_mb, rss_mb, start_server, worker_pids  # noqa: E402

MODELS = ["tweets-4h", "tweets-8h", "tweets-1h", "synthetic-4h", "bbc-4h", "tweets-2h"]
WORDS = "the flight was not good at all and my bag is lost but the crew were great thanks".split()


def visit(browser, url, i, train):
    """Session i: one page, a different model and sentence each time; returns the open page."""
    pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    pg.set_default_timeout(120_000)
    model, text = MODELS[i % len(MODELS)], "+".join(WORDS[i % 7 : i % 7 + 4 + i % 9])
    page = "train" if train else ["", "inside", "heads", "train"][i % 4]
    pg.goto(f"{url}/{page}?model={model}&text={text}")
    pg.wait_for_selector(IDLE)
    if page == "":
        pg.wait_for_selector("canvas.hm-canvas[data-drawn]")
    if train:
        box = pg.locator(".st-key-t_epochs input")
        box.fill("1")
        box.press("Enter")
        pg.wait_for_selector(IDLE)
        pg.locator(".st-key-start_training button").click()
        pg.get_by_text("Saved as").wait_for(timeout=300_000)
        pg.wait_for_selector(IDLE)
    return pg


def main(sessions, trainings, idle):
    train_at = {round(k * sessions / trainings) + 3 for k in range(trainings)} if trainings else set()
    os.environ.setdefault("ATTENTION_WORKER_IDLE_S", "20")  # the server and its workers inherit it
    proc, url = start_server(tempfile.mkdtemp())
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for i in range(4):  # the first round: each page once
                visit(browser, url, i, False).context.close()
            time.sleep(2)
            start = moment(proc.pid)
            peak, pg = start, None
            for i in range(1, sessions + 1):
                if pg:
                    pg.context.close()
                pg = visit(browser, url, i, i in train_at)
                now = moment(proc.pid)
                peak = tuple(map(max, peak, now))
                tag = " (trained)" if i in train_at else ""
                print(f"session {i:3d}{tag}: server {now[0]:.0f} MB, app PSS {now[1]:.0f} MB", file=sys.stderr)
            busy = moment(proc.pid)
            pg.context.close()
            browser.close()
        time.sleep(idle)
        after = moment(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    rows = [("start (a first round has used each page once)", start), (f"peak during {sessions} sessions", peak)]
    rows += [(f"busy: after {sessions} sessions, {len(train_at)} trainings", busy)]
    rows += [(f"after: all closed, {idle} s idle", after)]
    print(f"{sessions} sessions, {len(train_at)} trainings of one epoch. Server: its RSS; app: the PSS of the server")
    print("and its training workers together (shared library pages counted once).")
    print()
    print("| moment | server RSS | app PSS (server + workers) | workers |")
    print("|---|---|---|---|")
    for name, (server, app, n) in rows:
        print(f"| {name} | {server:.0f} MB | {app:.0f} MB | {n:.0f} |")
    print(f"| after − start (goal ≤ 100 MB) | {after[0] - start[0]:+.0f} MB | {after[1] - start[1]:+.0f} MB | |")
    numbers = dict(sessions=sessions, trainings=len(train_at))
    for name, (server, app, _) in zip(("start", "peak", "busy", "after"), (start, peak, busy, after)):
        numbers.update({f"{name}_mb": server, f"{name}_app_pss_mb": app})
    return numbers


def moment(pid):
    """(server RSS, app PSS, number of workers) now."""
    return rss_mb(pid), app_pss_mb(pid), len(worker_pids(pid))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--trainings", type=int, default=5)
    ap.add_argument("--idle", type=int, default=30, help="seconds to wait with nobody connected")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    numbers = main(args.sessions, args.trainings, args.idle)
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))

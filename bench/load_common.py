"""What bench/load.py's websocket (bench/load_ws.py) and browser (bench/load_browser.py) sessions share."""

import json
import re
import sys
import time
from pathlib import Path

MODEL = "tweets-4h"
WORDS = "the flight was not good at all and my bag is lost but the crew were great thanks".split()
T0, VERBOSE = time.perf_counter(), False  # bench/load.py sets VERBOSE from --verbose
note = lambda *msg: VERBOSE and print(f"{time.perf_counter() - T0:6.1f}s", *msg, file=sys.stderr, flush=True)


def sentence(rng, previous=None):
    """4-24 known words, never the sentence already in the box (that would not rerun anything)."""
    while True:
        n, shift = rng.randint(4, 24), rng.randrange(len(WORDS))
        words = [WORDS[(shift + i) % len(WORDS)] for i in range(n)]
        if words != previous:
            return words


def progress(text, finished, seconds, out, saved=""):
    """Update the training numbers from the progress line's text ("… (3 done) … 7,819 samples/s"); `saved` is the
    success line that names the run ("… Saved as **synthetic-4h-…**.")."""
    if m := re.search(r"Saved as \*\*([\w.-]+)\*\*", saved):
        out["run"] = m[1]
    if m := re.search(r"\((\d+) done\)", text):
        out["done"] = int(m[1])
    if m := re.search(r"([\d,]+) samples/s", text):
        out["samples_per_s"] = float(m[1].replace(",", ""))
    out.update(seconds=seconds, finished=finished)


def read_history(runs_dir, out):
    """Once finished, the epochs and mean samples/s the saved run's history holds (the run named on the page)."""
    for history in Path(runs_dir).glob(f"*/{out.get('run', '-')}/history.json") if out["finished"] else []:
        epochs = [e for e in json.loads(history.read_text())["epochs"] if not e.get("partial")]
        out.update(done=len(epochs), samples_per_s=sum(e["samples_per_s"] for e in epochs) / max(len(epochs), 1))

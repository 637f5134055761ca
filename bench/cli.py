"""What the benches share: the command line of those with no options of their own (`--json out.json` also writes
the numbers), and the median time of a call."""

import argparse
import json
import statistics
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

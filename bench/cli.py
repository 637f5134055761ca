"""The command line the benches with no options of their own share: `--json out.json` also writes the numbers."""

import argparse
import json
from pathlib import Path


def run(main):
    """Run main() (which prints its table) and write the numbers it returns to --json, if given."""
    ap = argparse.ArgumentParser(description=main.__module__)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    numbers = main()
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))

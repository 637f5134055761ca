"""Run every bench, one after another, and write bench/REPORT.md: the targets first, then each bench's tables.

python bench/report.py           # all eleven benches, about 40 minutes; run it alone (2 cores)
python bench/report.py --quick   # without bench/train.py (no target), and a 20 s load phase

Each bench runs as a subprocess (never two at once) with `--json` where it has targets, so the
summary reads numbers, not markdown. A bench that fails or hangs is reported as such, and its
targets as not measured; its processes (streamlit, Chromium) are killed with it.
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "REPORT.md"
# name, script, arguments, takes --json, time limit (s)
BENCHES = [
    ("mha", "bench/mha.py", [], False, 600),
    ("train", "bench/train.py", [], False, 1800),
    ("explore", "bench/explore.py", [], True, 900),
    ("inside", "bench/inside.py", [], True, 900),
    ("why", "bench/why.py", [], True, 600),
    # one explorer in Chromium while two visitors train (their live pages draw in their own browsers)
    (
        "load_browser",
        "bench/load.py",
        ["--clients", "browser", "--sessions", "1", "--think", "1.0", "--train-epochs", "60"],
        True,
        900,
    ),  # fmt: skip
    ("serve", "bench/serve.py", ["--model", "minilm-tweets"], True, 900),  # sessions on the pretrained encoder
    ("train_ui", "bench/train_ui.py", [], True, 1200),
    ("load", "bench/load.py", [], True, 600),
    ("memory", "bench/memory.py", [], True, 900),
    ("stop", "bench/stop.py", [], True, 600),
]


def run_bench(script, args, json_path, limit):
    """Run one bench in its own process group; (exit code or None on timeout, stdout, stderr, seconds)."""
    cmd = [sys.executable, script, *args] + (["--json", str(json_path)] if json_path else [])
    t0 = time.perf_counter()
    pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, **pipes, start_new_session=True)  # its own group: killed as one
    try:
        out, err = proc.communicate(timeout=limit)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the bench and its server and browser
        out, err = proc.communicate()
        code = None
    return code, out, err, time.perf_counter() - t0


def get(numbers, *path):
    """numbers[path...] or None when the bench failed or the key is missing."""
    for key in path:
        if not isinstance(numbers, dict) or key not in numbers:
            return None
        numbers = numbers[key]
    return numbers


def worst(rows, tokens, key, model=None):
    """(value, model) of the largest `key` among rows with these tokens (and model), or (None, None)."""
    rows = [r for r in rows or [] if r["tokens"] == tokens and model in (None, r["model"])]
    return max(((r[key], r["model"]) for r in rows), default=(None, None))


def grown(memory, what="mb"):
    """How much memory did not come back: after minus start, of the server's RSS or ("app_pss_mb") the app's PSS."""
    return (
        None if memory is None or f"after_{what}" not in memory else memory[f"after_{what}"] - memory[f"start_{what}"]
    )


def together(ui):
    """The app while one training runs: the server and its worker, PSS (bench/train_ui.py)."""
    return get(ui, "memory_mb", "together_pss")


def cold_ratio(serve):
    first, bare = get(serve, "first_page_s"), get(serve, "bare_first_page_s")
    return None if first is None or bare is None else first / bare


def peer_ratio(explore, tokens):
    """MiniLM's Enter -> drawn over inspectus's open -> drawn at this many tokens, measured in the same run."""
    ours, _ = worst(get(explore, "browser"), tokens, "median_ms", model="minilm-tweets")
    theirs = next((r["median_ms"] for r in get(explore, "peer") or [] if r["tokens"] == tokens), None)
    return None if ours is None or theirs is None else ours / theirs


def slowest_stop(stops):
    return max((statistics.median(r["times"]) for r in stops), default=None) if stops else None


def busy_ratio(results):
    """Explore's Enter -> drawn in Chromium while two visitors train, over the same with nobody training (p50)."""
    busy = results.get("load_browser")
    return None if busy is None else busy["p50_ms"] / busy["single_p50_ms"]


def why(results, key):
    """bench/why.py's figure for MiniLM at 32 tokens."""
    return next((r[key] for r in results.get("why") or [] if (r["model"], r["tokens"]) == ("minilm-tweets", 32)), None)


def targets(results):
    """Rows (target, goal, measured, met) from the benches' numbers; met is None when not measured."""
    explore, serve, load, ui, mem = (results.get(k) for k in ("explore", "serve", "load", "train_ui", "memory"))
    inside = lambda key: max((r[key] for r in results.get("inside") or []), default=None)  # slowest model
    server32, m32 = worst(get(explore, "server"), 32, "total_ms")
    draw8h, _ = worst(get(explore, "browser"), 32, "median_ms", model="tweets-8h")
    draw128, m128 = worst(get(explore, "browser"), 128, "median_ms")
    minilm = {n: worst(get(explore, "browser"), n, "median_ms", model="minilm-tweets")[0] for n in (128, 256, 512)}
    hover = max((r["hover_ms"] for r in get(explore, "browser") or []), default=None)
    link = max((get(explore, "link") or {}).values(), default=None)
    rows = [
        ("Explore server time, 32 tokens (worst model)", "<= 20 ms", server32, 20, "{:.1f} ms", m32),
        ("Browser draw, 32 tokens x 8 heads", "<= 300 ms", draw8h, 300, "{:.0f} ms", "tweets-8h"),
        ("Browser draw, 128 tokens (worst model)", "<= 1 s", draw128, 1000, "{:.0f} ms", m128),
        ("MiniLM, Enter -> drawn / inspectus's draw, 32 tokens", "<= 0.8x", peer_ratio(explore, 32), 0.8, "{:.2f}x"),
        ("MiniLM, Enter -> drawn / inspectus's draw, 128 tokens", "<= 0.5x", peer_ratio(explore, 128), 0.5, "{:.2f}x"),
        ("MiniLM, 128 tokens: the layer's grid and all 72 thumbnails", "<= 2 s", minilm[128], 2000, "{:.0f} ms"),
        ("MiniLM, 12 heads x 256 tokens: Enter -> drawn", "<= 1.5 s", minilm[256], 1500, "{:.0f} ms"),
        ("MiniLM, 12 heads x 512 tokens: Enter -> drawn", "<= 3 s", minilm[512], 3000, "{:.0f} ms"),
        ("Hover on a grid cell -> its value shown, slowest size", "<= 50 ms", hover, 50, "{:.0f} ms"),
        ("Explore from a shared link, fresh browser (slowest model)", "<= 3 s", link, 3000, "{:.0f} ms"),
        (
            "Inside a head: sentence typed -> finished",
            "<= 1.5 s",
            inside("sentence_ms"),
            1500,
            "{:.0f} ms",
        ),
        ("Inside a head: head switched -> finished", "<= 500 ms", inside("head_ms"), 500, "{:.0f} ms"),
        ("Inside a head: shared link, fresh browser", "<= 3 s", inside("link_ms"), 3000, "{:.0f} ms"),
        ("Cold start: launch -> first page, / a bare Streamlit app's", "<= 1.5x", cold_ratio(serve), 1.5, "{:.2f}x"),
        ("Cold start: launch -> prediction and heatmaps (MiniLM)", "<= 5 s", get(serve, "prediction_s"), 5, "{:.1f} s"),
        ("Server RSS with MiniLM, 1 session", "<= 500 MB", get(serve, "rss_1_session_mb"), 500, "{:.0f} MB"),
        ("Server RSS with MiniLM, 5 sessions", "<= 690 MB", get(serve, "rss_5_sessions_mb"), 690, "{:.0f} MB"),
        ("Load test errors", "0", get(load, "errors"), 0, "{}", f"{get(load, 'sessions')} sessions + 2 trainings"),
        ("Load test p95 / single-user p95, while 2 train", "<= 1.5x", get(load, "p95_ratio"), 1.5, "{:.2f}x"),
        ("Train page: Start -> first curve point", "<= 2 s", get(ui, "first_point_s"), 2, "{:.2f} s"),
        ("Server + training worker, shared pages once (PSS)", "<= 690 MB", together(ui), 690, "{:.0f} MB"),
        ("Server RSS after 20 sessions + 5 trainings, minus at start", "<= 100 MB", grown(mem), 100, "{:+.0f} MB"),
        (
            "App PSS (server + workers), same, after workers retire",
            "<= 100 MB",
            grown(mem, "app_pss_mb"),
            100,
            "{:+.0f} MB",
        ),
        ("Stop: click -> saved, slowest model (median)", "<= 2 s", slowest_stop(results.get("stop")), 2, "{:.1f} s"),
        ("Explore in Chromium while 2 train: p50 / idle p50", "<= 1.5x", busy_ratio(results), 1.5, "{:.2f}x"),
        (
            "Which heads made it: all 72 of MiniLM's, 32 tokens",
            "<= 300 ms",
            why(results, "batched_ms"),
            300,
            "{:.0f} ms",
        ),  # fmt: skip
        (
            "Integrated gradients (and both rollouts), MiniLM, 32 tokens",
            "<= 1 s",
            why(results, "attribution_ms"),
            1000,
            "{:.0f} ms",
        ),  # fmt: skip
    ]
    out = []
    for target, goal, value, limit, fmt, *detail in rows:
        measured = "not measured" if value is None else fmt.format(value) + (f" ({detail[0]})" if detail else "")
        out.append((target, goal, measured, None if value is None else value <= limit))
    page, drawn = get(ui, "page_ws_vs_same_threads"), get(ui, "page_vs_same_threads")  # more is better here
    measured = (
        "not measured"
        if page is None
        else (
            f"{page:.2f}x ({get(ui, 'page_ws', 'samples_per_s'):,.0f} samples/s; with Chromium drawing the page on "
            f"the same 2 cores {drawn:.2f}x)"
        )
    )
    target = "Training on the Train page vs the CLI with the same threads, samples/s"
    out.append((target, ">= 0.95x", measured, page and page >= 0.95))
    return out


def summary(results):
    lines = ["| target | goal | measured | met? |", "|---|---|---|---|"]
    for target, goal, measured, met in targets(results):
        lines.append(f"| {target} | {goal} | {measured} | {'?' if met is None else 'yes' if met else '**no**'} |")
    return lines


def write_report(runs, results, path=OUT):
    """runs: [(name, command, exit code, stdout, stderr, seconds, load average before)]."""
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    lines = ["# Benchmarks", ""]
    when, minutes = f"{datetime.now():%Y-%m-%d %H:%M}", sum(r[5] for r in runs) / 60
    lines.append(
        f"Written by `python bench/report.py` on {when}, commit `{commit.stdout.strip() or '?'}`, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}. The benches ran one after another, {minutes:.0f} min in all."
    )
    lines += ["", "## Targets", "", *summary(results)]
    for name, command, code, out, err, seconds, load in runs:
        lines += ["", f"## {name}", "", f"`{command}` ({seconds:.0f} s; load average before: {load})", ""]
        lines.append(out.strip() or "(no output)")
        if code != 0:
            why = "timed out and was killed" if code is None else f"exited with code {code}"
            lines += ["", f"**This bench {why}.**"]
            if err.strip():
                lines += ["The end of its error output:", "", "```", *err.strip().splitlines()[-15:], "```"]
    path.write_text("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip bench/train.py; a 20 s load phase")
    args = ap.parse_args()
    runs, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, script, extra, has_json, limit in BENCHES:
            if args.quick and name == "train":
                continue
            if args.quick and name == "load":
                extra = ["--seconds", "20", "--baseline", "10"]
            json_path = Path(tmp) / f"{name}.json" if has_json else None
            command = " ".join(["python", script, *extra] + (["--json", f"{name}.json"] if has_json else []))
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"running {command} …", file=sys.stderr, flush=True)
            code, out, err, seconds = run_bench(script, extra, json_path, limit)
            print(f"  {'ok' if code == 0 else 'FAILED'} in {seconds:.0f} s", file=sys.stderr, flush=True)
            runs.append((name, command, code, out, err, seconds, load))
            if json_path and json_path.exists():
                results[name] = json.loads(json_path.read_text())
    write_report(runs, results)
    print("\n".join(summary(results)))
    print(f"\nwrote {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Training through the Train page versus the CLI: samples/s, end-to-end time, and the page's redraw rate.

python bench/train_ui.py     # tweets, 4 heads, the page's defaults (6 epochs at most); about 3 minutes
python bench/train_ui.py --json out.json   # also write the numbers

Runs one thing at a time (the machine has 2 cores): the CLI in a subprocess, the page's job in
this process without a page, then the real page (its own streamlit server, driven by Chromium).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from attention.app import runlog, trainer  # noqa: E402
from attention.app.trainer import TORCH_THREADS  # noqa: E402
from attention.training.loop import TrainConfig  # noqa: E402
from bench import cli as bench_cli  # noqa: E402

CFG = TrainConfig(epochs=6)  # the Train page's defaults
MODEL = dict(d_model=64, num_heads=4, num_layers=1, positional="sinusoidal", pad_mask=True, causal=False)
# Remember when the progress line (redrawn by the page's fragment) last changed: one entry per redraw.
WATCH_JS = """() => {
  window.__redraws = []; let last = null;
  setInterval(() => {
    const p = document.querySelector('[data-testid=stProgress]');
    const t = p ? p.innerText : null;
    if (t && t !== last) { window.__redraws.push(performance.now()); last = t; }
  }, 20);
}"""


def per_epoch(history):
    """fit's samples/s averaged over full epochs (a stopped partial epoch would skew it)."""
    eps = [e for e in history["epochs"] if not e.get("partial")]
    samples = sum(e["samples_per_s"] * e["seconds"] for e in eps)
    return samples / sum(e["seconds"] for e in eps), len(history["epochs"])


def cli(tmp):
    out = Path(tmp) / "cli"
    cmd = [sys.executable, "-m", "attention.training.loop", "--dataset", "tweets", "--heads", "4"]
    cmd += ["--epochs", str(CFG.epochs)]
    t0 = time.perf_counter()
    subprocess.run(cmd + ["--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    return per_epoch(json.loads((out / "history.json").read_text())) + (wall,)


def job_alone(tmp):
    """The trainer as a worker runs it, in this process (no engine, no page)."""
    job_dir = Path(tmp) / "job" / ".jobs" / "bench"
    trainer.write_spec(job_dir, "tweets", MODEL, CFG, Path(tmp) / "job")
    t0 = time.perf_counter()
    trainer.train(job_dir)
    wall = time.perf_counter() - t0
    snap = runlog.Follower(str(job_dir)).update()
    assert snap.state in ("done", "stopped"), snap.message
    history = json.loads((Path(snap.run_path) / "history.json").read_text())
    return per_epoch(history) + (wall,)


def page(tmp):
    """Start training with the page's defaults in Chromium; time it and count the live panel's redraws."""
    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM, CHROMIUM_ARGS, start_server

    runs = Path(tmp) / "page"
    proc, url = start_server(runs)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.set_default_timeout(120_000)
            for path in ("/", "/train"):
                pg.goto(url + path)
                pg.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
            pg.evaluate(WATCH_JS)
            t0 = time.perf_counter()
            pg.locator(".st-key-start_training button").click()
            pg.get_by_text("Saved as").wait_for()
            wall = time.perf_counter() - t0
            redraws = pg.evaluate("() => window.__redraws")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    gaps = [(b - a) / 1000 for a, b in zip(redraws, redraws[1:])]
    history = json.loads(next(runs.glob("*/history.json")).read_text())
    return per_epoch(history) + (wall, gaps)


def main():
    print(f"tweets, 4 heads, d_model 64, batch {CFG.batch_size}, at most {CFG.epochs} epochs; 2 cores")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [("CLI (python -m attention.training.loop, torch default threads)", *cli(tmp))]
        rows.append((f"the trainer a worker runs, no page ({TORCH_THREADS} torch thread)", *job_alone(tmp)))
        sps, epochs, wall, gaps = page(tmp)
        rows.append(("Train page in Chromium (job + live redraws)", sps, epochs, wall))
    print()
    print("| how | samples/s (fit, full epochs) | vs CLI | epochs | wall time, start to saved |")
    print("|---|---|---|---|---|")
    for how, s, n, w in rows:
        print(f"| {how} | {s:,.0f} | {s / rows[0][1]:.2f} | {n} | {w:.1f} s |")
    print()
    if gaps:
        gaps.sort()
        rate = len(gaps) / sum(gaps)
        print(
            f"page redraws while training: {len(gaps) + 1} in {sum(gaps):.1f} s = {rate:.2f}/s; "
            f"gap median {gaps[len(gaps) // 2]:.2f} s, 95th percentile {gaps[int(len(gaps) * 0.95)]:.2f} s, "
            f"max {gaps[-1]:.2f} s"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    keys = ("cli", "job", "page")
    numbers = {k: dict(samples_per_s=s, epochs=n, wall_s=w) for k, (_, s, n, w) in zip(keys, rows)}
    return dict(numbers, page_vs_cli=rows[2][1] / rows[0][1], redraw_gaps_s=gaps)


if __name__ == "__main__":
    bench_cli.run(main)

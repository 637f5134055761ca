"""Training through the Train page versus the CLI: samples/s, Start -> first curve point, memory, redraw rate.

python bench/train_ui.py     # tweets, 4 heads, the page's defaults (6 epochs at most); about 4 minutes
python bench/train_ui.py --json out.json   # also write the numbers

Runs one thing at a time (the machine has 2 cores): the CLI in a subprocess (with torch's default threads, and
with one thread, as a worker trains), the trainer in this process without engine or page, then the real page
(its own streamlit server, whose embedded Dask cluster trains on a worker process, driven by Chromium).
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
from tools.browser import STEP_POINTS_JS, pss_mb, rss_mb, worker_pids  # noqa: E402

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


def cli(tmp, threads=None):
    out = Path(tmp) / f"cli{threads}"
    cmd = [sys.executable, "-m", "attention.training.loop", "--dataset", "tweets", "--heads", "4"]
    cmd += ["--epochs", str(CFG.epochs)]
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
    t0 = time.perf_counter()
    subprocess.run(cmd + ["--out", str(out)], cwd=ROOT, check=True, capture_output=True, env=env)
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


def cpu_s(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def ready_worker(server_pid, timeout=60):
    """Wait until the server has a worker process and it has finished starting (its CPU time stops growing)."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        pids = worker_pids(server_pid)
        now = sum(map(cpu_s, pids)) if pids else None
        if pids and last is not None and now - last < 0.02:
            return
        last = now
        time.sleep(1)


def page(tmp):
    """Start training with the page's defaults in Chromium: Start -> first curve point, redraws, memory."""
    from playwright.sync_api import sync_playwright

    from tools.browser import CHROMIUM, CHROMIUM_ARGS, start_server

    runs = Path(tmp) / "page"
    proc, url = start_server(runs)
    mem = dict(server_idle=0.0, server_training=0.0, worker_training=0.0, together_pss=0.0)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.set_default_timeout(120_000)
            for path in ("/", "/train"):
                pg.goto(url + path)
                pg.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
            ready_worker(proc.pid)  # the page warms one up, as a visitor reads the form
            mem["server_idle"] = rss_mb(proc.pid)
            pg.evaluate(WATCH_JS)
            t0 = time.perf_counter()
            pg.locator(".st-key-start_training button").click()
            pg.wait_for_function(f"({STEP_POINTS_JS})() > 0")
            first_point = time.perf_counter() - t0
            while not pg.get_by_text("Saved as").count():
                pids = worker_pids(proc.pid)
                mem["server_training"] = max(mem["server_training"], rss_mb(proc.pid))
                mem["worker_training"] = max([mem["worker_training"], *map(rss_mb, pids)])
                mem["together_pss"] = max(mem["together_pss"], sum(map(pss_mb, [proc.pid, *pids])))
                time.sleep(0.5)
            wall = time.perf_counter() - t0
            redraws = pg.evaluate("() => window.__redraws")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    gaps = [(b - a) / 1000 for a, b in zip(redraws, redraws[1:])]
    history = json.loads(next(runs.glob("*/*/history.json")).read_text())
    return per_epoch(history) + (wall, gaps, first_point, mem)


def ws_page(tmp):
    """The Train page's defaults, started and followed by a websocket client that speaks Streamlit's protocol as a
    browser would (bench/wsclient.py), so nothing is drawn on these cores: the server's cost of following."""
    import asyncio

    sys.path.insert(0, str(ROOT / "bench"))
    from wsclient import Session

    from tools.browser import start_server

    runs = Path(tmp) / "ws"
    proc, url = start_server(runs)

    async def follow():
        session = Session(url, page_name="train")
        await session.connect("", 60)
        await asyncio.to_thread(ready_worker, proc.pid)  # the event loop keeps answering the server's pings
        t0 = time.perf_counter()
        run = await session.rerun({}, 60, trigger=session.ids["start_training"])
        while not any("Saved as" in a.body for a in run.of("alert")):
            fragment, every = next(iter(session.auto.items()), ("", 0.5))
            await asyncio.sleep(every)
            run = await session.rerun({}, 60, fragment=fragment)
        wall = time.perf_counter() - t0
        await session.close()
        return wall

    try:
        wall = asyncio.run(follow())
    finally:
        proc.terminate()
        proc.wait(10)
    history = json.loads(next(runs.glob("*/*/history.json")).read_text())
    return per_epoch(history) + (wall,)


def main():
    print(f"tweets, 4 heads, d_model 64, batch {CFG.batch_size}, at most {CFG.epochs} epochs; 2 cores")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [("CLI (python -m attention.training.loop, torch default threads)", *cli(tmp))]
        rows.append((f"CLI with {TORCH_THREADS} torch thread, as a worker trains", *cli(tmp, TORCH_THREADS)))
        rows.append((f"the trainer a worker runs, in this process ({TORCH_THREADS} torch thread)", *job_alone(tmp)))
        sps, epochs, wall, gaps, first_point, mem = page(tmp)
        rows.append(("Train page in Chromium on the same 2 cores (a Dask worker + live redraws)", sps, epochs, wall))
        rows.append(("Train page followed by a websocket client (nothing drawn here)", *ws_page(tmp)))
    same = rows[1][1]
    print()
    print("| how | samples/s (fit, full epochs) | vs CLI, same threads | epochs | wall time, start to saved |")
    print("|---|---|---|---|---|")
    for how, s, n, w in rows:
        print(f"| {how} | {s:,.0f} | {s / same:.2f} | {n} | {w:.1f} s |")
    print()
    print(f"Start -> first point on the curves (a warm worker, the dataset prepared and cached): {first_point:.2f} s")
    print(
        f"Memory (RSS): server {mem['server_idle']:.0f} MB before Start, at most {mem['server_training']:.0f} MB "
        f"while training; the worker at most {mem['worker_training']:.0f} MB while training. Server and worker "
        f"together, shared pages counted once (PSS): at most {mem['together_pss']:.0f} MB"
    )
    if gaps:
        gaps.sort()
        rate = len(gaps) / sum(gaps)
        print(
            f"page redraws while training: {len(gaps) + 1} in {sum(gaps):.1f} s = {rate:.2f}/s; "
            f"gap median {gaps[len(gaps) // 2]:.2f} s, 95th percentile {gaps[int(len(gaps) * 0.95)]:.2f} s, "
            f"max {gaps[-1]:.2f} s"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    keys = ("cli", "cli_same_threads", "job", "page", "page_ws")
    numbers = {k: dict(samples_per_s=s, epochs=n, wall_s=w) for k, (_, s, n, w) in zip(keys, rows)}
    extra = dict(first_point_s=first_point, memory_mb=mem, redraw_gaps_s=gaps)
    ratios = dict(page_vs_cli=rows[3][1] / rows[0][1], page_vs_same_threads=rows[3][1] / same)
    return dict(numbers, **ratios, page_ws_vs_same_threads=rows[4][1] / same, **extra)


if __name__ == "__main__":
    bench_cli.run(main)

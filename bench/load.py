"""Loopback load test: many sessions explore sentences while two more sessions (two visitors) train models.

python bench/load.py                                  # 12 websocket sessions for 60 s; prints a markdown table
python bench/load.py --sessions 4 --seconds 20 --json load.json --verbose
python bench/load.py --clients browser                # every session a Chromium page instead

Its own streamlit server (empty temp runs dir). Baseline: one session changes the sentence `--baseline`
times, back to back. Load phase: `--sessions` sessions open Explore, `--trainings` more (2) each start a
training on the Train page (synthetic data; the trainings run on the engine's worker processes, not in the
server), and for `--seconds` each explorer changes the sentence, waits for the new grid, pauses about
`--think` s, and again.

--clients ws (default): every session, the trainer's too, speaks Streamlit's websocket protocol from this
process (bench/load_ws.py on bench/wsclient.py), as the browser would: the trainer sets the form's widgets,
clicks Start and reruns the live fragment on its 0.5 s timer. Latency = the rerun request with the new
sentence sent -> script_finished received, with the new grid among the run's plotly charts: the server's
time, nothing drawn.
--clients browser (bench/load_browser.py): one headless Chromium, a context per exploring session (the trainers
stay websocket clients unless --trainers browser: their live pages would draw in the measured browser, where a
visitor's draw in their own). Latency = Enter pressed -> every heatmap drawn.
On 2 cores the browsers take most of the CPU, so this mostly measures Chromium.
Errors: exceptions and error boxes the app sent or showed, page exceptions, runs without the grid, waits
over `--timeout` s, websockets closed by the server, server tracebacks. The CPU line says who used the
cores. The client part is cut after seconds + 150 s (then what was measured so far is reported); the
server and browser are always shut.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
import load_common  # noqa: E402
from load_browser import browser_kind  # noqa: E402
from load_common import MODEL, sentence  # noqa: E402
from load_ws import WS  # noqa: E402

from tools.browser import rss_mb, start_server  # noqa: E402


def stats():
    """What a phase's sessions saw; `quiet` holds pages whose websocket we close ourselves (no error)."""
    return SimpleNamespace(latencies=[], loads=[], errors=Counter(), quiet=set())


def percentile(xs, q):
    """Nearest-rank percentile (q in 0..1); nan for no data."""
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)] if xs else math.nan


def busy_cpu():
    """CPU seconds the whole machine has spent busy so far (user nice system irq softirq steal)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    return (sum(f) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    """CPU seconds used so far by process `root` and its living descendants."""
    procs = {}  # pid: (parent pid, cpu seconds)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            f = stat.read_text().rsplit(")", 1)[1].split()
            procs[int(stat.parent.name)] = (int(f[1]), (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"))
    tree = {root}
    for _ in range(8):  # generations: Chromium's renderers are 3 below us
        tree |= {pid for pid, (ppid, _) in procs.items() if ppid in tree}
    return sum(procs[p][1] for p in tree if p in procs)


async def explore(session, url, kind, st, args, stop_at=math.inf, count=None):
    """One person exploring: new sentence, wait for the grid, think; until stop_at, or `count` times back to back.
    `kind` (load_ws.WS or load_browser.browser_kind(...)) says how its client interacts and reloads."""
    client, rng, words = session
    tries = 0
    if count is None:  # people do not all press Enter in the same millisecond: start at a random point of a pause
        await asyncio.sleep(args.think * rng.uniform(0, 1))
    while time.perf_counter() < stop_at and tries != count:
        tries += 1
        words = sentence(rng, words)
        dt = await kind.interact(client, words, st, args.timeout)
        if dt is None:  # start over with a fresh page load
            await kind.reload(client, url, words, st, args.timeout)
        else:
            st.latencies.append(dt)
        if count is None:
            await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))


async def watch(pid, stop_at, out):
    """Peak server RSS, sampled every second; at the end, the cores the server, the clients and all used.
    Clients: this process and its children but the server (Chromium and Playwright's driver in browser mode)."""
    cpu0, wall0, server0, busy0 = tree_cpu(os.getpid()), time.perf_counter(), tree_cpu(pid), busy_cpu()
    while time.perf_counter() < stop_at:
        out["peak_rss_mb"] = max(out.get("peak_rss_mb", 0), rss_mb(pid))
        await asyncio.sleep(1)
    wall, server = time.perf_counter() - wall0, tree_cpu(pid) - server0
    out.update(server_cores=server / wall, client_cores=(tree_cpu(os.getpid()) - cpu0 - server) / wall)
    out.update(machine_cores=(busy_cpu() - busy0) / wall)


async def run(url, pid, runs_dir, args, base, load, out):
    """Baseline into `base`, load phase into `load`; training, memory and CPU into `out`."""
    async with contextlib.AsyncExitStack() as stack:
        kind = await browser_kind(stack) if args.clients == "browser" else WS
        # The trainers' sessions are open during the baseline too, so both phases serve the same sessions.
        coach = WS if args.trainers == "ws" else kind  # how the trainers' sessions speak
        trainers = [await coach.open_trainer(url, load, args) for _ in range(args.trainings)]
        session = await kind.open(url, 0, base, args)
        await explore(session, url, kind, base, args, count=args.baseline)
        await kind.close(session[0], base)
        sessions = await asyncio.gather(*(kind.open(url, i + 1, load, args, 0.25 * i) for i in range(args.sessions)))
        stop_at = time.perf_counter() + args.seconds
        out["training"] = [{} for _ in trainers]
        tasks = [coach.train(t, runs_dir, load, args, stop_at, o) for t, o in zip(trainers, out["training"])]
        tasks.append(watch(pid, stop_at, out))
        await asyncio.gather(*tasks, *(explore(s, url, kind, load, args, stop_at) for s in sessions))
        await asyncio.gather(*(coach.close(c, load) for c in trainers), *(kind.close(s[0], load) for s in sessions))


def report(args, base, load, out, server_errors):
    """Print the table; return the numbers."""
    kinds = dict(load.errors, **({"server traceback": server_errors} if server_errors else {}))
    p50, p95, b50, b95 = (percentile(st.latencies, q) * 1000 for st in (load, base) for q in (0.5, 0.95))
    r = dict(vars(args), json=None, interactions=len(load.latencies), errors=sum(kinds.values()), error_kinds=kinds)
    r.update(baseline_errors=dict(base.errors), p50_ms=p50, p95_ms=p95, single_p50_ms=b50, single_p95_ms=b95)
    r.update(p95_ratio=p95 / b95, page_load_p50_s=percentile(load.loads, 0.5), **out)
    r.update(page_load_p95_s=percentile(load.loads, 0.95))
    nan, ws = math.nan, args.clients == "ws"
    progress = "; ".join(
        f"{t.get('done', 0)}/{t.get('epochs', '?')} epochs in {t.get('seconds', 0):.0f} s, "
        f"{'' if t.get('finished') else 'not '}finished, {t.get('samples_per_s', 0):,.0f} samples/s"
        for t in out["training"]
    )
    trainers = "websocket clients" if args.trainers == "ws" else "browser pages"
    latency = (
        "websocket clients. Latency = rerun request sent -> script_finished received, with the new grid"
        if ws
        else "browser pages. Latency = Enter -> every heatmap drawn"
    )
    print(
        f"{MODEL}; {args.sessions} sessions for {args.seconds} s, about {args.think} s between sentences, while "
        f"{args.trainings} more train; baseline: 1 session, {args.baseline} sentences back to back. Exploring "
        f"sessions are {latency}; the trainers' are {trainers}."
        f"{' CUT SHORT by the time limit.' if out.get('cut') else ''}"
    )
    print()
    print(
        "| sessions | interactions | errors | p50 | p95 | single-user p50 / p95 | p95 ratio (goal <= 1.5x) "
        "| training while loaded | peak server RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.sessions} + {args.trainings} training | {r['interactions']} | {r['errors']} "
        f"| {p50:.0f} ms | {p95:.0f} ms "
        f"| {b50:.0f} / {b95:.0f} ms | {r['p95_ratio']:.2f}x | {progress} | {out.get('peak_rss_mb', nan):.0f} MB |"
    )
    print()
    clients = "the websocket clients (this process)" if ws else "browsers + Playwright"
    print(
        f"First page loads ({args.sessions} at once, 0.25 s apart): p50 {r['page_load_p50_s']:.1f} s, "
        f"p95 {r['page_load_p95_s']:.1f} s. CPU in the load phase (cores): server "
        f"{out.get('server_cores', nan):.2f}, {clients} {out.get('client_cores', nan):.2f}, "
        f"whole machine {out.get('machine_cores', nan):.2f} of {os.cpu_count()}."
    )
    if kinds or base.errors:
        print(f"Errors by kind: {kinds}; during the baseline: {dict(base.errors)}.")
    return r


def server_tracebacks(proc):
    """How many tracebacks the server has logged (start_server sends its output to a file)."""
    proc.log.seek(0)
    return proc.log.read().count(b"Traceback")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", choices=["ws", "browser"], default="ws", help="what all sessions are")
    ap.add_argument("--sessions", type=int, default=12, help="concurrent exploring sessions (besides the trainer)")
    ap.add_argument("--seconds", type=int, default=60, help="length of the load phase")
    ap.add_argument("--baseline", type=int, default=20, help="sentences in the single-user baseline")
    ap.add_argument("--think", type=float, default=2.0, help="mean pause between a session's sentences, s")
    ap.add_argument("--timeout", type=float, default=30.0, help="longest wait for one grid or page, s")
    ap.add_argument("--trainings", type=int, default=2, help="sessions that train meanwhile, one visitor each")
    ap.add_argument(
        "--trainers",
        choices=["ws", "browser"],
        default="ws",
        help="how the trainers' sessions speak: ws (default; a trainer's live page draws in its own visitor's "
        "browser, not in the one measured) or browser pages beside the explorers",
    )
    ap.add_argument("--train-epochs", type=int, default=10)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--verbose", action="store_true", help="log every page load, interaction and training line")
    args = ap.parse_args()
    load_common.VERBOSE = args.verbose

    runs_dir = tempfile.mkdtemp(prefix="load-runs-")
    proc, url = start_server(runs_dir)
    hard = args.seconds + 150  # the baseline, the first page loads and the trainer's form fit in 150 s
    watchdog = threading.Timer(hard + 30, lambda: (proc.kill(), os._exit(3)))  # if even the cleanup hangs
    watchdog.start()
    base, load, out = stats(), stats(), {"training": []}
    try:
        asyncio.run(asyncio.wait_for(run(url, proc.pid, runs_dir, args, base, load, out), hard))
    except TimeoutError:
        out["cut"] = True
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        watchdog.cancel()
    result = report(args, base, load, out, server_tracebacks(proc))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

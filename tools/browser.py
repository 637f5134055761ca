"""What tests, benches and tools share to drive the real app: a `streamlit run app.py` server, Debian's Chromium.

Playwright's own browser download does not work here, so every caller launches /usr/bin/chromium with these
arguments. tests/conftest.py wraps these in fixtures; bench/ and tools/ import them directly.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"  # a page that has finished its run

# How many per-step losses the Train page's curves chart has drawn (0 before it has one).
STEP_POINTS_JS = """() => {
  for (const d of document.querySelectorAll('.js-plotly-plot')) {
    const t = (d._fullData || []).find(t => t.name === 'train loss (step)');
    if (t) return t.y.length;
  }
  return 0;
}"""


def rss_mb(pid):
    """A process's resident set size in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pss_mb(pid):
    """A process's proportional set size in MB (Linux): pages shared with other processes (torch's libraries, mapped
    by the server and by every worker) count once across them, so the PSS of the app's processes adds up."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_pids(server_pid):
    """The pids of an app server's Dask worker processes (the embedded cluster's `python -m dask spec ...`)."""
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd, ppid = (proc / "cmdline").read_bytes(), int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == server_pid and b"dask\x00spec" in cmd:
            out.append(int(proc.name))
    return out


def app_pss_mb(server_pid):
    """The PSS of an app server and its workers together, in MB: what the app costs the machine."""
    return sum(map(pss_mb, [server_pid, *worker_pids(server_pid)]))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir, port=None, script="app.py", **env):
    """Start `streamlit run app.py` (or another script) headless, with these environment variables added; return
    (process, base url) once /_stcore/health answers ok."""
    port = port or free_port()
    env = dict(os.environ, ATTENTION_RUNS_DIR=str(runs_dir), **env)
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port)]
    cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log = tempfile.TemporaryFile()  # a file, not a pipe: a pipe nobody reads blocks a chatty server
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log = log  # the server's output so far: proc.log.seek(0); proc.log.read()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError("streamlit exited:\n" + log.read().decode(errors="replace"))
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not answer /_stcore/health within 60 s")


# A JS expression: the page's canvases of heatmaps (ui/heatmaps.js) that are drawn and current, each with `hm`,
# what it drew. GRIDS_JS: their n panels, titles, column labels, first panel's values (up to 64 x 64) and panels
# drawn. Tests and benches read both.
CANVASES = (
    """[...document.querySelectorAll('canvas.hm-canvas')].filter(c => c.hm && !c.closest("[data-stale='true']"))"""
)
GRIDS_JS = "() => " + CANVASES + ".map(c => c.hm)"

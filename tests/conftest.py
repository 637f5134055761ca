"""Shared fixtures: a real `streamlit run app.py` server and Debian's Chromium driven by Playwright."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir, port=None):
    """Start `streamlit run app.py` headless; return (process, base url) once /_stcore/health answers ok."""
    port = port or free_port()
    env = dict(os.environ, ATTENTION_RUNS_DIR=str(runs_dir))
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port)]
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


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """The user's runs go to a fresh folder (not created yet). Test files that need another kind define their own."""
    import ui
    from attention.app import runstore

    path = tmp_path / "runs"
    monkeypatch.setattr(runstore, "RUNS_DIR", path)
    ui.catalog.clear()  # the model picker's list is cached for a few seconds across tests
    return path


@pytest.fixture(scope="session")
def server_runs_dir(tmp_path_factory):
    """Where the browser tests' server keeps the user's runs."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def server(server_runs_dir):
    proc, url = start_server(server_runs_dir)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()

"""A real Dask cluster for the engine tests: a scheduler and workers started as separate processes on loopback, as
the README's scale-out section starts them (tests/engine/conftest.py makes one per module)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tools.browser import free_port

ROOT = Path(__file__).resolve().parents[2]


class Cluster:
    """`dask scheduler` and `dask worker --resources training=1` processes; add_worker() and kill() for faults."""

    def __init__(self):
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), DASK_LOGGING__DISTRIBUTED="warning")
        port = self.address.rsplit(":", 1)[1]
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
        self.workers = []
        wait(lambda: self._listening(int(port)), timeout=60, every=0.2)

    @staticmethod
    def _listening(port):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _start(self, *args):
        return subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=ROOT, env=self.env)

    def add_worker(self):
        opts = ["--nthreads", "1", "--resources", "training=1", "--no-nanny", "--no-dashboard", "--memory-limit", "0"]
        proc = self._start("worker", self.address, *opts, "--preload", "attention.app.trainer")
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n, client, timeout=60):
        client.wait_for_workers(n, timeout=timeout)

    def kill(self, pid):
        os.kill(pid, signal.SIGKILL)
        self.workers = [w for w in self.workers if w.pid != pid]

    def close(self):
        for proc in [*self.workers, self.scheduler]:
            proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait(cond, timeout=60, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := cond():
            return value
        time.sleep(every)
    raise AssertionError("timed out")

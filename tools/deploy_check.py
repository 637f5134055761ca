"""Check that the Dockerfile's command starts the app in a fresh virtualenv built only from requirements.txt.

    python tools/deploy_check.py            # about 2 minutes: venv + pip install, then start and probe

Docker cannot run here, so this does what the image does, minus the container: export the committed tree
(what `COPY . .` copies), install requirements.txt into a new venv (no dev tools), run the Dockerfile's CMD as
written, and wait for /_stcore/health; then open the app in headless Chromium and wait for a prediction.
Exits non-zero and says why if any step fails.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def dockerfile_cmd():
    """The exec-form CMD of the Dockerfile, as a list."""
    line = next(x for x in (ROOT / "Dockerfile").read_text().splitlines() if x.startswith("CMD "))
    return json.loads(line[4:])


def export_tree(dest: Path):
    """The committed files, as `COPY . .` would see them (HEAD, no work-tree leftovers)."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def wait_healthy(url, proc, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("the app exited:\n" + proc.stdout.read().decode(errors="replace"))
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"no answer from {url}/_stcore/health within {seconds} s")


def see_prediction(url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url + "/?text=thanks+for+the+great+crew")
        page.get_by_text("Prediction").first.wait_for(timeout=60_000)
        errors = page.locator("[data-testid='stException']").count()
        browser.close()
    if errors:
        sys.exit("the page shows an exception")


def main():
    work = Path(tempfile.mkdtemp(prefix="deploy-check-"))
    app, venv = work / "app", work / "venv"
    app.mkdir()
    export_tree(app)
    t0 = time.time()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=app, check=True)
    print(f"venv from requirements.txt: {time.time() - t0:.0f} s")
    cmd = dockerfile_cmd()
    assert cmd[0] == "python", cmd
    port = next(a.split("=")[1] for a in cmd if a.startswith("--server.port="))
    env = dict(os.environ, ATTENTION_RUNS_DIR=str(work / "runs"))
    t0 = time.time()
    proc = subprocess.Popen([py, *cmd[1:]], cwd=app, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        print(f"healthy after {time.time() - t0:.1f} s: {' '.join(cmd)}")
        see_prediction(url)
        print("the Explore page shows a prediction: ok")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()

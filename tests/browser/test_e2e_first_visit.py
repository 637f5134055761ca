"""A first visit, to a freshly started server: the page, its sidebar and an example sentence are on screen before the
server imports torch (1.3 s of a cold start, more on a busy machine); the example's prediction follows.

"Before" is made observable, not timed: the server's `import torch` is held until the test opens a gate (a file),
so a page that needed torch for its first paint would show nothing at all until then.
"""

import os
import time

import pytest
from playwright.sync_api import expect

from attention.app.scope import EXAMPLES
from tools.browser import start_server

# sitecustomize.py, imported by Python at start-up: holds `import torch` in the server's process (not in the
# processes it starts: the variable is gone from their environment) until the gate's file "open" exists.
GATE = """
import os, sys, time
from pathlib import Path


class Gate:
    def __init__(self, folder):
        self.folder = Path(folder)

    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            (self.folder / "asked").touch()
            while not (self.folder / "open").exists():
                time.sleep(0.05)
            sys.meta_path.remove(self)
        return None


folder = os.environ.pop("TORCH_GATE", None)
if folder:
    sys.meta_path.insert(0, Gate(folder))
"""


def held_torch_server(tmp_path):
    """A server whose `import torch` waits for (tmp_path / "gate" / "open"); returns (process, url, gate)."""
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "sitecustomize.py").write_text(GATE)
    path = os.pathsep.join(filter(None, [str(gate), os.environ.get("PYTHONPATH")]))
    proc, url = start_server(tmp_path / "runs", PYTHONPATH=path, TORCH_GATE=str(gate))
    return proc, url, gate


@pytest.mark.parametrize(
    "path, title, predicted",
    [
        ("/", "Explore attention", ("[data-testid='stMetricValue']", "negative")),
        ("/inside", "Inside a head", ("[data-testid='stCaptionContainer']:has-text('Prediction for')", "negative (8")),
    ],
)
def test_a_first_visit_sees_the_page_and_an_example_before_torch_is_imported(browser, tmp_path, path, title, predicted):
    proc, url, gate = held_torch_server(tmp_path)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # no cookies: a first visit
    try:
        page = context.new_page()
        page.goto(url + path)
        expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=30_000)
        expect(page.get_by_label("Sentence", exact=True)).to_have_value(EXAMPLES["tweets"][0])
        expect(page.get_by_test_id("stSidebar")).to_contain_text("test accuracy")  # the model, from its JSON
        deadline = time.time() + 30
        while not (gate / "asked").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (gate / "asked").exists()  # the page has gone on to load the model, and waits for torch
        expect(page.get_by_text("Loading model…")).to_be_visible()
        where, said = predicted
        expect(page.locator(where)).to_have_count(0)
        (gate / "open").touch()
        expect(page.locator(where)).to_contain_text(said, timeout=60_000)  # the example's prediction
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        (gate / "open").touch()
        context.close()
        proc.terminate()
        proc.wait(10)

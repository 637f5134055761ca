"""Shared fixtures: a real `streamlit run app.py` server and Debian's Chromium driven by Playwright."""

import subprocess

import pytest

from tools.browser import CHROMIUM, CHROMIUM_ARGS, start_server


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A fresh runs root for the app; returns the test visitor's own folder in it (kit.TESTER), where the app saves
    and lists their runs."""
    from kit import tester_home

    import ui
    from attention.app import runstore

    monkeypatch.setattr(runstore, "RUNS_DIR", tmp_path / "runs")
    ui.models.refresh()  # the model picker's list is cached for a few seconds across tests
    return tester_home(tmp_path / "runs")


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
def home(page, server, server_runs_dir):
    """The runs folder of the visitor that `page` is (so a test can put runs there before the page opens)."""
    from kit import visit

    return visit(page.context, server, server_runs_dir)


# A returning visitor, who has seen the first visit's tour (ui/tour.py): its card would float over the pages the
# other tests use. tests/browser/test_e2e_tour.py is the first visit.
TOUR_SEEN = dict(name="attention_tour", value="done", domain="127.0.0.1", path="/")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([TOUR_SEEN])
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()

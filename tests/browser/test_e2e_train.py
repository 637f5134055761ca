"""Browser tests of the Train page: live curves, Stop, the confusion matrix, two visitors, closing the tab."""

import random
import re

import pytest
from kit import CELLS_JS, cells_overflowing, choose
from playwright.sync_api import expect

from tools.browser import STEP_POINTS_JS

CONFUSION_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .map(d => (d._fullData || [])[0])
  .filter(t => t && t.type === 'heatmap' && t.texttemplate === '%{text}')
  .map(t => Array.from(t.x))"""


RUN_ROWS_JS = """() => {
  const rows = {};
  for (const c of document.querySelectorAll('[data-testid=stDataFrame] [role=gridcell]')) {
    const r = c.parentElement.getAttribute('aria-rowindex');
    (rows[r] = rows[r] || []).push(c.textContent);
  }
  return Object.values(rows);
}"""


def tiny_csv(labels=("neg", "pos"), n=300, words=12, seed=0):
    """Long-ish texts whose words give the label away: training takes a few seconds, not milliseconds."""
    rng = random.Random(seed)
    vocab = {y: [f"{y}{i}" for i in range(6)] + ["the", "a", "and", "was"] for y in labels}
    ys = [labels[i % len(labels)] for i in range(n)]
    rows = ["text,label"] + [" ".join(rng.choices(vocab[y], k=words)) + "," + y for y in ys]
    return "\n".join(rows).encode()


def idle(page):
    expect(page.locator("[data-testid='stApp']")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=30_000
    )


def open_train(page, server):
    page.goto(server + "/train")
    idle(page)
    expect(page.get_by_text("Train a model")).to_be_visible()


def number(page, key, value):
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))
    idle(page)


def start_upload_training(page, server, csv, name="data.csv", epochs=500, heads=4, layers=1):
    open_train(page, server)
    page.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name="Upload a CSV (text,label)").click()
    page.locator("input[type=file]").set_input_files(dict(name=name, mimeType="text/csv", buffer=csv))
    expect(page.get_by_text("Uploaded file")).to_be_visible()
    idle(page)
    number(page, "t_dmodel", 16)
    if (heads, layers) != (4, 1):
        number(page, "t_heads", heads)
        number(page, "t_layers", layers)
    number(page, "t_epochs", epochs)
    number(page, "t_patience", 500)
    page.locator(".st-key-start_training button").click()


def step_points(page):
    return page.evaluate(STEP_POINTS_JS)


@pytest.mark.parametrize("heads, layers", [(4, 1), (2, 2)])
def test_training_shows_growing_curves_stops_and_shows_the_confusion_matrix(page, server, heads, layers):
    start_upload_training(page, server, tiny_csv(), heads=heads, layers=layers)
    page.wait_for_function(f"({STEP_POINTS_JS})() > 0", timeout=30_000)
    if layers > 1:  # the probe heads have a layer switch, and switching layers draws them
        page.locator(".st-key-live_l button", has_text="2").click()
        idle(page)
    first = step_points(page)
    page.wait_for_function(f"({STEP_POINTS_JS})() > {first}")  # redrawn with more points, no click needed
    expect(page.get_by_text("samples/s")).to_be_visible()
    page.locator(".st-key-stop_training button").click()
    saved = page.get_by_test_id("stAlertContentSuccess")
    expect(saved).to_contain_text("Stopped by you", timeout=20_000)
    expect(saved).to_contain_text("Saved as")
    page.wait_for_function(f"({CONFUSION_JS})().length > 0")
    assert page.evaluate(CONFUSION_JS)[0] == ["neg", "pos"]
    expect(page.get_by_text("Weakest class")).to_be_visible()
    page.wait_for_function(f"({CELLS_JS})().length >= 3")  # probe heads (12-word sentences), confusion matrix
    bad, maps = cells_overflowing(page)
    assert not bad, maps
    assert page.locator("[data-testid='stException']").count() == 0
    expect(page.locator("strong", has_text=f"data-{heads}h-")).to_be_visible()
    page.goto(page.get_by_role("link", name="Open this model on Explore").get_attribute("href"))
    idle(page)
    expect(page.get_by_text("Explore attention")).to_be_visible()
    picked = re.compile(rf"^data · {heads} heads · {f'{layers} layers · ' * (layers > 1)}\d+\.\d% test · \d\d-\d\d ")
    expect(page.get_by_role("combobox", name="Model")).to_have_value(picked)  # its display name, not its folder


def test_two_sessions_train_at_once_and_stay_separate(browser, server):
    pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(2)]
    try:
        datasets = [("one.csv", ("neg", "pos")), ("two.csv", ("cat", "dog", "fish"))]
        for pg, (name, labels) in zip(pages, datasets):
            pg.set_default_timeout(30_000)
            start_upload_training(pg, server, tiny_csv(labels), name=name)
        for pg in pages:
            pg.wait_for_function(f"({STEP_POINTS_JS})() > 0")
        for pg in pages:
            # Two trainings and two Chromiums on 2 cores: a starved tab can lose its websocket for a while, and
            # Streamlit disables widgets until it has reconnected (once seen on a fresh clone). Allow for that.
            try:
                pg.locator(".st-key-stop_training button").click(timeout=20_000)
            except Exception:
                pg.screenshot(path="/tmp/stuck.png")
                open("/tmp/stuck.html", "w").write(pg.content())
                raise
        for pg, (name, labels) in zip(pages, datasets):
            expect(pg.get_by_test_id("stAlertContentSuccess")).to_contain_text("Saved as", timeout=20_000)
            expect(pg.locator("strong", has_text=name.removesuffix(".csv") + "-4h-")).to_be_visible()
            pg.wait_for_function(f"({CONFUSION_JS})().length > 0")
            assert pg.evaluate(CONFUSION_JS)[0] == list(labels)
    finally:
        for pg in pages:
            pg.context.close()


def test_closing_the_tab_does_not_stop_the_training_it_finishes_and_is_saved(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    start_upload_training(tab, server, tiny_csv(), name="closedtab.csv", epochs=8)
    tab.wait_for_function(f"({STEP_POINTS_JS})() > 0", timeout=30_000)
    tab.close()  # the session ends; the training goes on on its worker
    page = context.new_page()  # the same browser, later
    try:
        for _ in range(60):
            open_train(page, server)
            page.wait_for_function(f"({RUN_ROWS_JS})().length > 0")
            mine = [r for r in page.evaluate(RUN_ROWS_JS) if r and r[0].startswith("closedtab-4h-")]
            if mine:
                assert any("Finished after 8 epochs" in cell for cell in mine[0]), mine
                return
            page.wait_for_timeout(1000)
        raise AssertionError("the closed tab's run never appeared in the runs table")
    finally:
        context.close()


def test_a_number_outside_its_range_disables_start_and_names_the_field(page, server):
    open_train(page, server)
    start = page.locator(".st-key-start_training button")
    expect(start).to_be_enabled()
    number(page, "t_heads", 99)  # typed and committed, as a person would
    expect(page.get_by_text("Heads must be a whole number from 1 to 16; it is 99.")).to_be_visible()
    expect(start).to_be_disabled()
    number(page, "t_heads", 2)
    expect(start).to_be_enabled()


def test_a_renamed_run_keeps_its_panel_open_and_shows_its_new_name_everywhere(page, server, home):
    from kit import save_old_run

    save_old_run(home, "rename-me")
    open_train(page, server)
    choose(page, "Run", "rename-me", "rename-me · tiny · 2 heads")  # the list shows its first options: filter
    idle(page)
    box = page.locator(".st-key-name_rename-me input")
    box.fill("my best run")
    box.press("Enter")
    idle(page)
    page.locator(".st-key-rename_run button").click()
    idle(page)
    page.get_by_role("combobox", name="Dataset").click()  # any next click, as a person would make
    page.keyboard.press("Escape")
    idle(page)
    expect(box).to_be_visible()  # the run's panel stayed open
    expect(page.get_by_role("combobox", name="Run")).to_have_value("my best run · tiny · 2 heads")
    page.get_by_role("combobox", name="Model").click()
    page.keyboard.type("my best")
    expect(page.get_by_role("option", name="my best run · tiny · 2 heads")).to_be_visible()

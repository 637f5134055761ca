"""Two visitors on one server (two browser contexts, each with its own cookie): runs are private until shared by a
link, the link opens a run read-only, and a visitor's training follows them to a reloaded or second tab."""

import re

from kit import choose
from playwright.sync_api import expect
from test_e2e_train import RUN_ROWS_JS, STEP_POINTS_JS, idle, open_train, start_upload_training, tiny_csv


def new_page(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    return page


def pick_run(page, name):
    idle(page)
    choose(page, "Run", name, re.compile(re.escape(name)))
    idle(page)


def model_options(page):
    page.get_by_role("combobox", name="Model").click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def test_a_visitors_runs_are_theirs_until_they_share_a_link_which_opens_them_read_only(browser, server):
    a, b = new_page(browser), new_page(browser)
    try:
        start_upload_training(a, server, tiny_csv(), name="secret.csv", epochs=2)
        saved = a.get_by_test_id("stAlertContentSuccess")
        expect(saved).to_contain_text("Saved as", timeout=60_000)
        folder = a.locator("strong", has_text="secret-4h-").inner_text()
        pick_run(a, "secret")
        box = a.locator(f".st-key-name_{folder} input")
        box.fill("my private run")
        box.press("Enter")
        idle(a)
        a.locator(".st-key-rename_run button").click()
        idle(a)

        open_train(b, server)  # B: none of A's runs, by table, picker or a guessed name
        b.wait_for_function(f"({RUN_ROWS_JS})().length > 0")
        assert not [r for r in b.evaluate(RUN_ROWS_JS) if "secret" in " ".join(r) or "private" in " ".join(r)]
        assert not [o for o in model_options(b) if "secret" in o or "private" in o]
        b.goto(f"{server}/?model={folder}")
        idle(b)
        expect(b.get_by_text(f"There is no model called “{folder}”")).to_be_visible()

        a.locator(".st-key-share_run button").click()  # A shares it
        idle(a)
        link = a.get_by_test_id("stCode").inner_text().strip()
        assert "model=shared-" in link and folder not in link

        b.goto(link)  # B opens the link: the run, read-only
        idle(b)
        expect(b.get_by_role("combobox", name="Model")).to_have_value(re.compile("^my private run .*shared with you"))
        expect(b.get_by_text("There is no model called")).to_have_count(0)
        b.get_by_role("link", name="Train").click()  # the same session: the shared run is in B's list
        idle(b)
        pick_run(b, "my private run")
        expect(b.get_by_text("Shared with you by its link")).to_be_visible()
        for key in ("rename_run", "delete_run", "share_run", "unshare_run"):
            expect(b.locator(f".st-key-{key} button")).to_have_count(0)

        a.locator(".st-key-unshare_run button").click()  # A stops sharing: the link no longer opens it
        idle(a)
        c = new_page(browser)
        c.goto(link)
        idle(c)
        expect(c.get_by_text("There is no model called")).to_be_visible()
        c.context.close()
    finally:
        a.context.close()
        b.context.close()


def test_a_reloaded_tab_and_a_second_tab_follow_the_visitors_running_training(browser, server):
    first = new_page(browser)
    try:
        start_upload_training(first, server, tiny_csv(), name="follow.csv", epochs=500)
        first.wait_for_function(f"({STEP_POINTS_JS})() > 0")
        second = first.context.new_page()  # a second tab of the same browser
        second.set_default_timeout(30_000)
        open_train(second, server)
        expect(second.get_by_text("Your training")).to_be_visible()
        second.wait_for_function(f"({STEP_POINTS_JS})() > 0")
        before = second.evaluate(STEP_POINTS_JS)
        second.wait_for_function(f"({STEP_POINTS_JS})() > {before}")  # live: the curve grows
        first.reload()  # the first tab reloaded
        idle(first)
        first.wait_for_function(f"({STEP_POINTS_JS})() > {before}")
        first.locator(".st-key-stop_training button").click()
        expect(first.get_by_test_id("stAlertContentSuccess")).to_contain_text("Stopped by you", timeout=20_000)
    finally:
        first.context.close()

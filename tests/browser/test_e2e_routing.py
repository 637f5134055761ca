"""A shared link to any page, as the first request of a freshly started server, runs app.py first.

Streamlit runs a file in pages/ alone until st.navigation has run once in the process (ui.frame.ensure_router):
these links would then show no sidebar, no model picker and break on the shared state app.py sets up.
"""

import pytest
from kit import label
from playwright.sync_api import expect

from tools.browser import start_server

LINKS = [
    "/heads?model=synthetic-4h",
    "/inside?model=tweets-2h&text=late+again",
    "/train",
    "/?model=tweets-8h",
    "/learn",
]


@pytest.mark.parametrize("link", LINKS)
def test_a_direct_link_to_a_fresh_server_runs_the_app_around_the_page(browser, tmp_path, link):
    proc, url = start_server(tmp_path)
    try:
        pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        pg.goto(url + link)
        app = pg.locator("[data-testid='stApp']")
        expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=60_000)
        nav = pg.get_by_test_id("stSidebarNav")
        expect(nav.get_by_text("Heads lab")).to_be_visible()  # app.py's navigation, with its page titles
        expect(nav.get_by_text("heads", exact=True)).to_have_count(0)  # not the legacy list of file names
        picker = pg.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")
        expect(picker).to_be_visible()  # the model picker app.py draws
        if "model=" in link:
            expect(picker).to_have_value(label(link.split("model=")[1].split("&")[0]))  # the link's, not the default
        expect(pg.get_by_test_id("stException")).to_have_count(0)
        pg.context.close()
    finally:
        proc.terminate()
        proc.wait(10)

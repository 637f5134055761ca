"""Browser test of the first visit's tour: shown once, each step outlining its part of Explore, skippable,
remembered in a cookie, and started again from the sidebar."""

from playwright.sync_api import expect

OUTLINED_JS = """(sel) => { const e = document.querySelector(sel);
  return !!e && getComputedStyle(e).outlineStyle === 'solid' && getComputedStyle(e).outlineWidth === '3px'; }"""


def test_the_tour_walks_through_explore_once_and_can_be_taken_again(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server + "/")
        card = page.locator(".st-key-tour")
        expect(card).to_contain_text("Tour · 1 of 6", timeout=30_000)
        page.wait_for_function(OUTLINED_JS, arg=".st-key-text")  # it points at the sentence box
        card.get_by_role("button", name="Next").click()
        expect(card).to_contain_text("Tour · 2 of 6")
        expect(page.get_by_label("Sentence", exact=True)).not_to_have_value("")  # an example filled in to look at
        page.wait_for_function(OUTLINED_JS, arg=".st-key-grid")
        card.get_by_role("button", name="Next").click()
        expect(card).to_contain_text("Tour · 3 of 6")
        card.get_by_role("button", name="Skip the tour").click()
        expect(card).to_have_count(0)
        page.reload()  # remembered: a returning visitor is not toured again
        expect(page.get_by_role("heading", name="Explore attention")).to_be_visible(timeout=30_000)
        expect(page.locator("[data-testid='stApp']")).to_have_attribute("data-test-script-state", "notRunning")
        expect(page.locator(".st-key-tour")).to_have_count(0)
        page.get_by_role("button", name="Take the tour").click()  # unless asked
        expect(page.locator(".st-key-tour")).to_contain_text("Tour · 1 of 6")
    finally:
        context.close()

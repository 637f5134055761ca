"""Browser tests: Explore's "Step through this head" opens every stage of that head, drawn by Chromium."""

import re
from urllib.parse import parse_qs, urlencode, urlparse

from playwright.sync_api import expect

from tools.browser import CANVASES, GRIDS_JS

# Every canvas of heatmaps on the page as drawn (ui/heatmaps.js): its panel titles, each panel's values (None
# where masked), how many panels were drawn, and where each panel is in the canvas.
CHARTS_JS = (
    "() => "
    + CANVASES
    + ".map(c => ({titles: c.hm.titles, z: c.hm.z, n: c.hm.n, drawn: c.hm.drawn, boxes: c.hm.boxes}))"
)


def wait_idle(page):
    expect(page.locator("[data-testid='stApp']")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=30_000
    )


def chart(page, title):
    """The drawn canvas whose panel titles include `title`: titles, values per panel, panel boxes."""
    page.wait_for_function(f"(t) => ({CHARTS_JS})().some(c => c.titles.includes(t) && c.drawn === c.n)", arg=title)
    return next(c for c in page.evaluate(CHARTS_JS) if title in c["titles"])


def test_explore_link_opens_the_stages_of_the_chosen_head(page, server):
    page.goto(server + "/?" + urlencode(dict(text="great crew thanks", focus="h2")))
    wait_idle(page)
    page.wait_for_function(f"() => ({GRIDS_JS})().some(g => g.titles[0] === 'head 2' && g.drawn === 1)")
    explore = page.evaluate(GRIDS_JS)[0]  # the Explore grid, head 2 alone (a canvas: 16-bit weights)
    page.get_by_role("link", name="Step through this head").click()
    expect(page).to_have_url(re.compile(r"/inside\?.*head=2"))
    wait_idle(page)
    expect(page.get_by_role("heading", name="2 · Queries, keys and values of head 2 (3 × 16 each)")).to_be_visible()
    expect(page.get_by_label("Sentence", exact=True)).to_have_value("great crew thanks")
    weights = chart(page, "weights (3 × 3)")
    for row, want in zip(weights["z"][0], explore["z0"]):  # the same head's weights as on Explore
        assert all(abs(a - b) < 1e-5 for a, b in zip(row, want))
    assert all(abs(s[0] - 1) < 1e-4 for s in weights["z"][1])  # the row-sum column
    assert chart(page, "Q·Kᵀ (3 × 3)")["z"][0][0][0] != 0
    table = page.get_by_test_id("stTable").first  # the worked row (the second table follows the token)
    expect(table).to_contain_text("exp(s − max)")
    expect(table.get_by_role("row").last).to_contain_text("1.0000")  # the worked row's weights add up to 1
    query = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert query["head"] == "2" and query["text"] == "great crew thanks"


def test_masked_cells_are_blank_hatched_and_say_masked(page, server):
    page.goto(server + "/inside?" + urlencode(dict(text="great crew thanks", pad="5", causal="on")))
    wait_idle(page)
    masks = chart(page, "after the causal mask<br>(5 × 5)")
    causal = masks["z"][1]
    assert causal[0][4] is None and causal[2][3] is None and causal[2][0] is not None  # masked: no value sent
    # the masks' canvas by its element's key: a locator by position (nth) resolves again on each use, and while the
    # page still mounts its canvases the one at a given position changes (it picked Q, K, V's on a busy machine)
    canvas = page.locator(".st-key-masks canvas.hm-canvas")
    expect(canvas).to_have_count(1)
    assert "after the causal mask<br>(5 × 5)" in canvas.evaluate("c => c.hm.titles")
    box = masks["boxes"][1]  # the second panel, 5 × 5 cells
    assert "0:great → 4:<pad>: masked" in hover(page, canvas, box, 4.5, 0.5)
    assert "2:thanks → 0:great: -" in hover(page, canvas, box, 0.5, 2.5)  # an unmasked score: its value


def hover(page, canvas, box, col, row, tries=10):
    """Move the mouse onto cell (row, col) of a 5 x 5 panel and return the tooltip's text. The canvas's place is
    read again on each try: the page may still be laying out what is below or above it (a busy machine's
    browser takes longer), so a place read once may be stale by the time the mouse moves."""
    tip = canvas.locator("xpath=..").locator(".hm-tip")
    for _ in range(tries):
        canvas.scroll_into_view_if_needed()
        at = canvas.bounding_box()
        page.mouse.move(at["x"] + box["x"] + box["w"] * col / 5, at["y"] + box["y"] + box["h"] * row / 5)
        page.wait_for_timeout(100)
        if tip.text_content():
            return tip.text_content()
        page.mouse.move(0, 0)  # away, so the next move is a move onto the canvas
    return tip.text_content()


def test_sidebar_navigation_keeps_the_sentence_and_masks(page, server):
    """Going Explore → Inside a head → Explore by the sidebar keeps the sentence, the mask settings and the model:
    typed and switched on the page (reruns of Explore's fragment alone), not only read from a link."""
    page.goto(server + "/?" + urlencode(dict(model="synthetic-2h")))
    wait_idle(page)
    page.get_by_label("Sentence", exact=True).fill("the dog 4 vs 8")
    page.get_by_label("Sentence", exact=True).press("Enter")
    page.locator(".st-key-causal").get_by_text("Causal mask").click()
    page.wait_for_url(re.compile(r"causal=on"))
    wait_idle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    for link, path in (("Inside a head", "/inside"), ("Explore", "/")):
        sidebar.get_by_role("link", name=link).click()
        page.wait_for_url(re.compile(re.escape(server + path) + r"\?"))
        wait_idle(page)
        expect(page.get_by_label("Sentence", exact=True)).to_have_value("the dog 4 vs 8")
        params = parse_qs(urlparse(page.url).query)
        assert params["model"] == ["synthetic-2h"] and params["causal"] == ["on"]
        expect(sidebar).to_contain_text("synthetic · 2 heads")

"""Browser tests: Explore's "Step through this head" opens every stage of that head, drawn by Chromium."""

import math
import re
from urllib.parse import parse_qs, urlencode, urlparse

from playwright.sync_api import expect

from tools.browser import GRIDS_JS

CHARTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(d => !d.closest("[data-stale='true']") && d._fullData)
  .map(d => {
    const maps = d._fullData.filter(t => t.type === 'heatmap');
    return {
      titles: (d.layout.annotations || []).map(a => a.text),
      z: maps.map(t => Array.from(t.z, row => Array.from(row))),
      hover: maps.map(t => t.customdata),
      shapes: (d.layout.shapes || []).length,
      drawn: d.querySelectorAll('g.hm image').length,
    };
  })"""


def wait_idle(page):
    expect(page.locator("[data-testid='stApp']")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=30_000
    )


def chart(page, title):
    """The drawn chart whose panel titles include `title`: titles, z per heatmap, hover text, hatch shapes."""
    page.wait_for_function(
        f"(t) => ({CHARTS_JS})().some(c => c.titles.includes(t) && c.z.length && c.drawn === c.z.length)", arg=title
    )
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
    expect(page.get_by_label("Sentence")).to_have_value("great crew thanks")
    weights = chart(page, "weights (3 × 3)")
    for row, want in zip(weights["z"][0], explore["z0"]):  # the same head's weights as on Explore
        assert all(abs(a - b) < 1e-5 for a, b in zip(row, want))
    assert all(abs(s[0] - 1) < 1e-6 for s in weights["z"][1])  # the row-sum column
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
    assert math.isnan(causal[0][4]) and math.isnan(causal[2][3]) and not math.isnan(causal[2][0])
    assert masks["hover"][1][0][4] == "masked" and masks["shapes"] == 2
    plot = page.locator(".js-plotly-plot", has_text="after the causal mask").first
    plot.scroll_into_view_if_needed()
    cell = plot.locator(".nsewdrag").nth(1).bounding_box()  # the second panel's plot area, 5 × 5 cells
    page.mouse.move(cell["x"] + cell["width"] * 4.5 / 5, cell["y"] + cell["height"] * 0.5 / 5)
    expect(page.locator(".hovertext").first).to_contain_text("masked")


def test_sidebar_navigation_keeps_the_sentence_and_masks(page, server):
    """Going Explore → Inside a head → Explore by the sidebar keeps the sentence, the mask settings and the model."""
    page.goto(server + "/?" + urlencode(dict(model="synthetic-2h", text="the dog 4 vs 8", causal="on")))
    wait_idle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    for link, path in (("Inside a head", "/inside"), ("Explore", "/")):
        sidebar.get_by_role("link", name=link).click()
        page.wait_for_url(re.compile(re.escape(server + path) + r"\?"))
        wait_idle(page)
        expect(page.get_by_label("Sentence")).to_have_value("the dog 4 vs 8")
        params = parse_qs(urlparse(page.url).query)
        assert params["model"] == ["synthetic-2h"] and params["causal"] == ["on"]
        expect(sidebar).to_contain_text("synthetic · 2 heads")

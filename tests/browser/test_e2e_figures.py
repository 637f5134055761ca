"""Browser tests: numbers written in heatmap cells fit the cells as Chromium draws them (issue 11, item 5)."""

from urllib.parse import urlencode

import pytest
from kit import cells_overflowing
from playwright.sync_api import expect

from tools.browser import CANVASES

SENTENCES = {
    8: "the flight was late and the crew rude",
    10: "the flight was late and the crew was very rude",
    12: "the flight was late and the crew was very rude to us",
}
PHONE = {"width": 390, "height": 844}
# At least n charts with heatmaps on show, every one of them drawn (plotly: one image per heatmap; a canvas view:
# every panel).
DRAWN_JS = (
    """(n) => {
  const charts = [...document.querySelectorAll('.js-plotly-plot')]
    .filter(d => !d.closest("[data-stale='true']") && d._fullData && d.offsetParent)
    .map(d => [d._fullData.filter(t => t.type === 'heatmap').length, d.querySelectorAll('g.hm image').length])
    .filter(([maps]) => maps)
    .concat("""
    + CANVASES
    + """.filter(c => c.offsetParent).map(c => [c.hm.n, c.hm.drawn]));
  return charts.length >= n && charts.every(([maps, drawn]) => maps === drawn);
}"""
)


def open_page(page, server, path="/", **params):
    page.goto(server + path + "?" + urlencode(params))
    expect(page.locator("[data-testid='stApp']")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=30_000
    )


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


@pytest.mark.parametrize("tokens", [8, 10, 12])
def test_explore_writes_weights_only_where_they_fit_at_1400_px(page, server, tokens):
    open_page(page, server, model="tweets-4h", text=SENTENCES[tokens])
    page.wait_for_function(DRAWN_JS, arg=1)
    bad, maps = cells_overflowing(page)
    assert not bad, bad
    grid = [m for m in maps if m["title"].startswith(("head", "average"))]
    assert len(grid) == 5  # 4 heads and their average
    if tokens == 8:  # 22.8 px cells: the weights are written, at a readable size
        assert all(m["n"] == 64 for m in grid)


def test_explore_on_a_phone_writes_no_weight_it_cannot_fit(phone, server):
    open_page(phone, server, model="tweets-4h", text=SENTENCES[8])
    phone.wait_for_function(DRAWN_JS, arg=1)
    bad, maps = cells_overflowing(phone)
    assert not bad, bad
    assert maps and all(m["cell_w"] < 10 for m in maps)  # 4 panels across a phone: cells too small to write in


@pytest.mark.parametrize("viewport", [None, PHONE])
def test_inside_a_head_writes_values_only_where_they_fit(page, server, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    open_page(page, server, "/inside", model="tweets-4h", text=SENTENCES[12], layer=1, head=1)
    page.wait_for_function(DRAWN_JS, arg=5)
    bad, maps = cells_overflowing(page)
    assert not bad, bad
    if not viewport:  # at 1400 px the 12 × 12 score matrices have room for their values
        assert any(m["n"] == 144 for m in maps)

"""The pretrained encoder in a real browser: all 72 heads drawn as thumbnails, and a click on one enlarges it."""

from urllib.parse import urlencode

from playwright.sync_api import expect

from tools.browser import GRIDS_JS


def test_clicking_a_thumbnail_enlarges_that_head(page, server):
    page.goto(server + "/?" + urlencode(dict(model="minilm-tweets", text="the crew were lovely")))
    marks = page.locator(".st-key-overview .scatterlayer path.point")
    expect(marks).to_have_count(72, timeout=60_000)
    expect(page.get_by_role("heading", name="Layer 1: every head's attention")).to_be_visible()
    mark = marks.nth(2 * 12 + 4)  # layer 3, head 5 (the markers are transparent, over the image)
    mark.scroll_into_view_if_needed()
    box = mark.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)  # plotly picks the point it hovers: a click with no hover before it selects nothing
    expect(page.locator(".st-key-overview .hoverlayer")).to_contain_text("L3H5: click to enlarge")
    page.mouse.click(x, y)
    expect(page.get_by_role("heading", name="Layer 3: every head's attention")).to_be_visible(timeout=30_000)
    page.wait_for_function(
        f"() => ({GRIDS_JS})().some(g => g.n === 1 && g.titles[0] === 'head 5' && g.drawn === 1)", timeout=30_000
    )
    assert page.locator("[data-testid='stException']").count() == 0


def test_the_weights_download_is_made_when_clicked_and_holds_every_head(page, server):
    """The JSON is built on the click (at 256 tokens MiniLM's CSV is 4.7 million rows: not on every rerun)."""
    import json

    page.goto(server + "/?" + urlencode(dict(model="minilm-tweets", text="the crew were lovely")))
    button = page.get_by_role("button", name="Weights as JSON")
    expect(button).to_be_visible(timeout=60_000)
    with page.expect_download(timeout=30_000) as download:
        button.click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["tokens"] == ["[CLS]", "the", "crew", "were", "lovely", "[SEP]"] and data["model"] == "minilm-tweets"
    assert len(data["layers"]) == 6 and len(data["layers"][5]["heads"]) == 12

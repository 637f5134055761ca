"""The pretrained encoder in a real browser: all 72 heads drawn as thumbnails, and a click on one enlarges it."""

from urllib.parse import urlencode

from playwright.sync_api import expect

from tools.browser import GRIDS_JS


def test_clicking_a_thumbnail_enlarges_that_head(page, server):
    page.goto(server + "/?" + urlencode(dict(model="minilm-tweets", text="the crew were lovely")))
    thumbs = page.locator(".st-key-overview canvas.hm-canvas[data-drawn]")
    expect(thumbs).to_have_count(1, timeout=60_000)
    assert thumbs.evaluate("c => c.hm.n") == 72
    expect(page.get_by_role("heading", name="Layer 1: every head's attention")).to_be_visible()
    thumbs.scroll_into_view_if_needed()
    box = thumbs.evaluate("c => c.hm.boxes[2 * 12 + 4]")  # layer 3, head 5, in the canvas's own px
    at = thumbs.bounding_box()
    x, y = at["x"] + box["x"] + box["w"] / 2, at["y"] + box["y"] + box["h"] / 2
    page.mouse.move(x, y)
    expect(page.locator(".st-key-overview .hm-tip")).to_have_text("L3H5: click to enlarge")
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

"""Browser tests: Chromium drives `streamlit run app.py` like a person would."""

from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from kit import label, visit
from playwright.sync_api import expect

from tools.browser import GRIDS_JS


def open_app(page, server, **params):
    page.goto(server + ("/?" + urlencode(params) if params else "/"))
    expect(page.locator("[data-testid='stApp']")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=30_000
    )


def grid(page, n=None):
    """The attention grid as drawn: number of heatmaps, titles, x labels, head 1's weights."""
    if n is not None:
        page.wait_for_function(f"(n) => ({GRIDS_JS})().some(g => g.n === n && g.drawn === n)", arg=n)
    grids = page.evaluate(GRIDS_JS)
    assert len(grids) == 1, grids
    return grids[0]


def test_the_page_opens_on_an_example_and_an_emptied_box_gets_a_hint(page, server):
    open_app(page, server)
    expect(page.get_by_text("Explore attention")).to_be_visible()
    expect(page.get_by_label("Sentence", exact=True)).to_have_value("the flight was not good at all")
    assert grid(page, 5)["x"][1] == "1:flight" and page.get_by_test_id("stMetricValue").inner_text() == "negative"
    page.get_by_label("Sentence", exact=True).fill("")
    page.get_by_label("Sentence", exact=True).press("Enter")
    expect(page.get_by_text("Type a sentence above")).to_be_visible()
    expect(page.get_by_test_id("stMetricValue")).to_have_count(0)
    page.get_by_test_id("stSidebarNav").get_by_text("Inside a head").click()  # which reads the link on arrival
    expect(page.get_by_role("heading", name="Inside a head")).to_be_visible()
    expect(page.get_by_text("Type a sentence above")).to_be_visible()  # the box as the person left it
    expect(page.get_by_label("Sentence", exact=True)).to_have_value("")
    assert page.locator("[data-testid='stException']").count() == 0


def test_typing_a_sentence_draws_one_heatmap_per_head(page, server):
    open_app(page, server)
    grid(page, 5)  # the example, drawn once the model has loaded (on a fresh server, after the first run)
    box = page.get_by_label("Sentence", exact=True)
    box.fill("the crew was not nice at all")
    box.press("Enter")
    page.wait_for_function(f"() => ({GRIDS_JS})().some(g => g.x[4] === '4:nice')")
    g = grid(page, 5)  # 4 heads + their average
    assert g["x"] == ["0:the", "1:crew", "2:was", "3:not", "4:nice", "5:at", "6:all"]
    assert g["titles"][:4] == ["head 1", "head 2", "head 3", "head 4"]
    expect(page.get_by_test_id("stMetricValue")).to_have_text("negative")


def test_switching_heads_changes_the_grid(page, server):
    open_app(page, server, text="the flight was not good at all")
    grid(page, 5)
    page.locator(".st-key-heads button", has_text="8").click()
    grid(page, 9)
    expect(page.get_by_role("combobox", name="Model")).to_have_value(label("tweets-8h"))
    page.locator(".st-key-heads button", has_text="1").click()
    assert grid(page, 1)["titles"] == ["head 1"]


def test_padding_mask_changes_weights_on_pad_keys(page, server):
    open_app(page, server, text="great crew", pad="6")
    g = grid(page, 5)
    pads = [i for i, label in enumerate(g["x"]) if label.endswith("<pad>")]
    assert len(pads) == 4
    assert all(row[i] == 0 for row in g["z0"] for i in pads)  # masked: no weight on <pad>
    page.locator(".st-key-padmask label").click()
    page.wait_for_function(f"() => ({GRIDS_JS})().some(g => g.z0[0][{pads[0]}] > 0)")
    g = grid(page, 5)
    assert all(sum(row[i] for i in pads) > 0 for row in g["z0"])
    expect(page.get_by_text("without them it is").or_(page.get_by_text("Same class as without"))).to_be_visible()


def test_shared_url_restores_the_view(page, server):
    params = dict(model="tweets-8h", text="my bag is lost", off="L1H2", focus="h3", hide="1")
    open_app(page, server, **params)
    g = grid(page, 1)
    assert g["titles"] == ["head 3"]
    assert g["x"] == ["0:my", "1:bag", "2:is", "3:lost"]
    assert all(row[1] == 0 for row in g["z0"])  # "bag" hidden as a key
    expect(page.get_by_label("Sentence", exact=True)).to_have_value("my bag is lost")
    expect(page.get_by_role("combobox", name="Model")).to_have_value(label("tweets-8h"))
    # the page writes the same state back into the address bar
    query = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert query == params


def test_html_in_text_is_shown_not_run(page, server):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_app(page, server, text="<script>alert(1)</script><img src=x onerror=alert(2)>")
    g = grid(page, 5)
    assert g["x"][:4] == ["0:<", "1:script", "2:>", "3:alert"]  # the tags are words on the axes, as typed
    page.wait_for_timeout(500)
    assert dialogs == []
    expect(page.get_by_label("Sentence", exact=True)).to_have_value(
        "<script>alert(1)</script><img src=x onerror=alert(2)>"
    )


HIDDEN_OPTIONS_JS = """() => [...document.querySelectorAll('[data-testid=stButtonGroup]')].map(g => {
  const box = g.getBoundingClientRect(), main = document.querySelector('[data-testid=stMain]').getBoundingClientRect();
  const out = [...g.querySelectorAll('button')].filter(b => {
    const r = b.getBoundingClientRect();
    return r.right > Math.min(box.right, main.right) + 1 || r.left < Math.max(box.left, main.left) - 1;
  });
  return out.map(b => b.textContent);
}).flat()"""


@pytest.mark.parametrize("width", [1400, 390])
def test_every_option_of_a_big_model_is_on_screen_without_scrolling_sideways(browser, server, server_runs_dir, width):
    page = browser.new_context(viewport={"width": width, "height": 1000}).new_page()
    big_model(visit(page.context, server, server_runs_dir))
    try:
        for _ in range(10):  # the server lists runs from a cache of a few seconds: a run made just now may wait
            open_app(page, server, model="big-4x16", text="the flight was not good at all", pad=12)
            if page.get_by_text("There is no model called").count() == 0:
                break
            page.wait_for_timeout(1000)
        folded = page.get_by_text("Switch heads off: 0 of 64 chosen")  # 64 heads fold away; opened, all fit
        expect(folded).to_be_visible(timeout=30_000)
        folded.click()
        expect(page.locator(".st-key-off button")).to_have_count(64)
        expect(page.locator(".st-key-hide button")).to_have_count(12)  # 7 words and 5 <pad>
        expect(page.locator(".st-key-focus button")).to_have_count(18)  # all, average, 16 heads
        assert page.evaluate(HIDDEN_OPTIONS_JS) == []
    finally:
        page.context.close()


def big_model(runs_dir):
    """A 4-layer x 16-head model (untrained: the test is about the controls, not the prediction)."""
    import torch

    from attention.core.model import AttentionClassifier, ModelConfig
    from attention.core.tokenizer import Tokenizer
    from attention.training import checkpoints

    if (runs_dir / "big-4x16").exists():
        return
    tok = Tokenizer.build(["the flight was not good at all"], min_freq=1)
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=len(tok), num_classes=2, d_model=64, num_heads=16, num_layers=4)
    checkpoints.save_run(runs_dir / "big-4x16", AttentionClassifier(cfg), tok, ["neg", "pos"], dict(dataset="tiny"))


def test_the_grid_downloads_as_a_png(page, server):
    open_app(page, server, model="tweets-4h", text="my bag is lost")
    grid(page, 5)
    with page.expect_download(timeout=30_000) as download:
        page.locator(".st-key-grid .hm-png").click()
    assert download.value.suggested_filename == "attention-tweets-4h.png"
    data = open(download.value.path(), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000  # a real image of the five panels


CONTRIB_BARS_JS = """() => { const d = [...document.querySelectorAll('.st-key-contrib_bars .js-plotly-plot')][0];
  return d && d._fullData ? d._fullData[0].y : null; }"""


def test_a_click_on_a_head_contribution_shows_that_head_or_switches_it_off(page, server):
    open_app(page, server, model="tweets-4h", text="the flight was not good at all", contrib="on")
    grid(page, 5)
    page.wait_for_function(CONTRIB_BARS_JS)
    ranked = page.evaluate(CONTRIB_BARS_JS)  # head names, largest effect first
    assert sorted(ranked) == ["L1H1", "L1H2", "L1H3", "L1H4"]
    top, second = (int(name[3:]) for name in ranked[:2])
    click_bar(page, 0)
    assert grid(page, 1)["titles"] == [f"head {top}"]  # the grid shows that head alone
    page.locator(".st-key-contrib_click button", has_text="switches it off").click()
    page.wait_for_function(CONTRIB_BARS_JS)
    click_bar(page, 1)
    page.wait_for_function(f"() => location.search.includes('off=L1H{second}')")  # in the masks, so in the link


def click_bar(page, i):
    """Click bar i near its left end, as a person would (plotly's drag layer lies over the bars)."""
    bar = page.locator(".st-key-contrib_bars g.point path").nth(i)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + 4, box["y"] + box["height"] / 2)

"""Browser tests of the teaching views: the Learn page follows the sentence as it is typed, and Explore draws all
heads in one colour each."""

from playwright.sync_api import expect

CHARTS_JS = """(n) => [...document.querySelectorAll('.js-plotly-plot')].filter(d => d._fullData).length === n"""
DRAWN_JS = """() => [...document.querySelectorAll('canvas.hm-canvas')].some(c => c.hm && c.hm.drawn === 1)"""


def test_the_learn_page_draws_its_views_and_follows_the_sentence(page, server):
    page.goto(server + "/learn?model=tweets-4h")
    expect(page.get_by_role("heading", name="Why divide the scores by √d_k?")).to_be_visible(timeout=30_000)
    page.wait_for_function(CHARTS_JS, arg=3, timeout=30_000)  # dot products, one row, positional curves
    page.wait_for_function(DRAWN_JS)  # positions' dot products on the canvas
    expect(page.get_by_text("T = 7 tokens")).to_be_visible()  # the example sentence
    box = page.get_by_label("Sentence", exact=True)
    box.fill("late again")
    box.press("Enter")
    expect(page.get_by_text("T = 2 tokens")).to_be_visible(timeout=30_000)  # the cost follows what is typed


def test_all_heads_in_one_colour_each_are_drawn_on_request(page, server):
    page.goto(server + "/?model=tweets-8h&text=the+animal+was+too+tired")
    toggle = page.locator(".st-key-colours label")
    expect(toggle).to_be_visible(timeout=30_000)
    toggle.click()
    page.wait_for_function(
        "() => { const d = document.querySelector('.st-key-colour_map .js-plotly-plot');"
        " return !!d && !!d._fullData && d.querySelectorAll('g.hm image').length === 1; }",
        timeout=30_000,
    )
    expect(page.locator(".st-key-colour_map")).to_contain_text("head 8")  # the key names every head

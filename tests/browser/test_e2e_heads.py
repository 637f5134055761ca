"""Browser test of the Heads lab: saved results load, ablation draws one bar per head."""

from playwright.sync_api import expect

BARS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(d => !d.closest("[data-stale='true']"))
  .filter(d => (d._fullData || []).some(t => t.type === 'bar' && t.orientation === 'h' && t.xaxis === 'x'))
  .map(d => ({bars: d._fullData[0].y.length, drawn: d.querySelectorAll('g.point').length}))"""


def test_heads_lab_shows_results_and_ablation(page, server):
    page.goto(server + "/heads?model=tweets-4h")
    expect(page.get_by_role("heading", name="Does the number of heads matter?")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("heads beat 1 head").or_(page.get_by_text("heads trail 1 head")).first).to_be_visible()
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    expect(page.get_by_role("heading", name="Remove one head")).to_be_visible(timeout=60_000)
    page.wait_for_function(f"() => ({BARS_JS})().some(b => b.bars === 4 && b.drawn === 4)", timeout=60_000)
    expect(page.get_by_role("heading", name="Head diagnostics")).to_be_visible()


def test_the_map_of_heads_shows_a_clicked_head_on_its_texts_and_switches_a_role_off(page, server):
    page.goto(server + "/heads?model=synthetic-4h")
    chart = page.locator(".st-key-head_map .js-plotly-plot")
    expect(chart).to_be_visible(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.st-key-head_map path.point').length === 4", timeout=30_000
    )  # one point per head
    point = page.locator(".st-key-head_map path.point").first
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_text("where it matters most")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="Open in Explore")).to_have_count(3)  # its three texts, drawn
    page.wait_for_function("() => [...document.querySelectorAll('[class*=st-key-top] canvas.hm-canvas')]"
                           ".filter(c => c.hm && c.hm.drawn === 1).length === 3")  # fmt: skip
    idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
    expect(idle).to_have_count(1, timeout=30_000)  # the click's rerun over: a list opened now stays open
    page.get_by_role("combobox", name="Switch off together").click()
    page.get_by_role("option").filter(has_text="every").first.click()
    expect(page.get_by_text("Validation accuracy without")).to_be_visible(timeout=60_000)

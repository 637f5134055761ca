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

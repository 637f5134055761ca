"""How every figure looks: colour scales, widths, when numbers fit in cells, labels shown as typed."""

import functools

import plotly.colors as pc
import plotly.graph_objects as go
import plotly.io as pio


def _scale(colors):
    """A plotly colorscale spelled out, so plotly.js draws the same colours as plotly.py (its named ones differ)."""
    return [[i / (len(colors) - 1), c] for i, c in enumerate(colors)]


SCALE = _scale(pc.sequential.Blues)  # 0 = white, 1 = dark blue
DIVERGING = _scale(pc.diverging.RdBu)  # negative = red, positive = blue
TEMPLATE = "plotly_white"
TICKS_UP_TO = 48  # beyond this many tokens, tick labels cost more than they tell (hover still names tokens)
# Figure widths in px at a 1400 px window with the sidebar open (measured): the builders cannot see the browser,
# so they decide at these widths whether numbers fit in the cells; a narrower window only shrinks them.
WIDTH = 940  # a chart across the page (Streamlit's wide layout)
HALF_WIDTH = 438  # a chart in one of st.columns(2, gap="large")
COLORBAR_PX = 110  # the right margin plotly makes for a titled colour bar
CELL_FONT, CELL_FONT_MIN = 10, 8  # px: numbers in cells at most this large; smaller than the least, none at all


def figure(data, layout, template=TEMPLATE):
    """A figure from plain dicts (traces with their "type"), not validated by plotly.py: its validation cost 10 ms
    a figure, mostly copying the template, on the one interpreter every visitor's page shares. The builders'
    output is validated by the tests instead (tests/unit/viz). template: a registered template's layout part
    (its per-trace defaults would be 60% of a small figure's bytes), or None for Streamlit's theme."""
    if template is not None:
        layout = dict(layout, template=_layout_only(template))
    return go.Figure(dict(data=data, layout=layout), skip_invalid=False, _validate=False)


@functools.cache
def _layout_only(name):
    return go.layout.Template(layout=pio.templates[name].layout)


def axis_labels(tokens):
    """Unique labels by position ('3:the'), so repeated words get their own row and column."""
    return [f"{i}:{t}" for i, t in enumerate(tokens)]


def cell_font(chars, cell_w, cell_h):
    """The font size (px) plotly.js gives `chars`-character cell text in a cell_w × cell_h px heatmap cell when
    the trace's textfont size is left to "auto" and the layout font is CELL_FONT (its rule: 0.65 em per character
    across, 1.3 em per line). Text drawn so never runs into its neighbours, whatever the drawn size."""
    return min(int(cell_w / (0.65 * chars)), int(cell_h / 1.3), CELL_FONT)


def numbers_fit(chars, cell_w, cell_h):
    """Whether to write numbers in the cells: readable (CELL_FONT_MIN or larger) at the estimated cell size."""
    return cell_font(chars, cell_w, cell_h) >= CELL_FONT_MIN


# A page style (ui.page_style) hides cell text plotly had to shrink below CELL_FONT_MIN for a narrower window than
# the builders assumed ("auto" sizes are whole pixels, written inline as "font-size: 7px;"): narrower, fewer numbers.
CELL_TEXT_CSS = (
    ".heatmap-label text:is("
    + ", ".join(f'[style*="font-size: {px}px;"]' for px in range(1, CELL_FONT_MIN))
    + ") { display: none; }"
)
# Layout for figures that write numbers in cells: plotly caps "auto" cell text at the layout font size, so that
# is CELL_FONT; hover labels and colour bars (colorbar()), which would inherit it, keep plotly's usual 12 px.
CELL_TEXT_LAYOUT = dict(font=dict(size=CELL_FONT), hoverlabel=dict(font=dict(size=12)))


def colorbar(title):
    """A thin colour bar with a title, in 12 px whatever the layout font."""
    return dict(title=dict(text=title, font=dict(size=12)), tickfont=dict(size=12), thickness=12)


def spans(widths, gap):
    """[start, end] spans across 0..1, `gap` between neighbours, sized in proportion to `widths`."""
    total, free = sum(widths), 1 - gap * (len(widths) - 1)
    out, x = [], 0.0
    for w in widths:
        out.append((x, x + w / total * free))
        x += w / total * free + gap
    return out


def plain_labels(labels):
    """Labels that plotly shows as typed: its pseudo-HTML (<b>, <a href>...) is escaped as entities."""
    return [str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for s in labels]

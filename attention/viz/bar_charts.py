"""Horizontal bar charts: the effect of removing each head (Explore's class probabilities are Streamlit's own bars)."""

import numpy as np

from attention.viz.style import figure, plain_labels

BLUE, RED = "#1f77b4", "#d62728"
MODEBAR_PX = 22
TEXT_ROOM = 0.4  # of the bars' span, left of zero when a bar is negative: its text, written outside, is not cut


def hbars(labels, values, colors, xaxis, text=None, hover=".3f", row_px=28, pad_px=60):
    """One horizontal bar per label, the first on top; labels are shown as typed (they come from uploads)."""
    hovertemplate = f"%{{y}}: %{{x:{hover}}}<extra></extra>"
    bar = dict(x=values, y=plain_labels(labels), orientation="h", marker_color=colors, hovertemplate=hovertemplate)
    if text is not None:
        bar.update(text=text, textposition="auto")
    # the top margin holds plotly's mode bar (shown on hover), which otherwise covers the top bar where it is clicked
    margin = dict(l=10, r=10, t=10 + MODEBAR_PX, b=10)
    layout = dict(xaxis=xaxis, yaxis=dict(autorange="reversed", type="category"), margin=margin)
    return figure([dict(type="bar", **bar)], dict(layout, height=pad_px + MODEBAR_PX + row_px * len(values)))


def bars(labels, values, xaxis_title, highlight_negative=True, text=None):
    """Bars in the given order (first on top), negative values in red; `text` written on them, if given."""
    values = np.asarray(values, dtype=np.float32)
    colors = [RED if (v < 0 and highlight_negative) else BLUE for v in values]
    xaxis = dict(title=xaxis_title)
    if text is not None and len(values) and values.min() < 0:  # a short red bar's text goes left of it
        low, high = float(min(values.min(), 0)), float(max(values.max(), 0))
        span = high - low
        xaxis["range"] = [low - TEXT_ROOM * span, high + 0.02 * span]
    return hbars(labels, values, colors, xaxis, text, hover=".4f", row_px=26, pad_px=80)

"""Horizontal bar charts: the effect of removing each head (Explore's class probabilities are Streamlit's own bars)."""

import numpy as np

from attention.viz.style import figure, plain_labels

BLUE, RED = "#1f77b4", "#d62728"


def hbars(labels, values, colors, xaxis, text=None, hover=".3f", row_px=28, pad_px=60):
    """One horizontal bar per label, the first on top; labels are shown as typed (they come from uploads)."""
    hovertemplate = f"%{{y}}: %{{x:{hover}}}<extra></extra>"
    bar = dict(x=values, y=plain_labels(labels), orientation="h", marker_color=colors, hovertemplate=hovertemplate)
    if text is not None:
        bar.update(text=text, textposition="auto")
    layout = dict(xaxis=xaxis, yaxis=dict(autorange="reversed", type="category"), margin=dict(l=10, r=10, t=10, b=10))
    return figure([dict(type="bar", **bar)], dict(layout, height=pad_px + row_px * len(values)))


def bars(labels, values, xaxis_title, highlight_negative=True, text=None):
    """Bars in the given order (first on top), negative values in red; `text` written on them, if given."""
    values = np.asarray(values, dtype=np.float32)
    colors = [RED if (v < 0 and highlight_negative) else BLUE for v in values]
    return hbars(labels, values, colors, dict(title=xaxis_title), text, hover=".4f", row_px=26, pad_px=80)

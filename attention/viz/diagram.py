"""One head's pipeline as a diagram of boxes (Inside a head)."""

import numpy as np

from attention.viz.style import figure


def pipeline_diagram(boxes, token_label=""):
    """Boxes left to right joined by arrows: the shape-by-shape trace of one layer.

    boxes: objects with .name, .formula, .shape (strings), .values (the followed token's vector or None)
    and optionally .part (what the vector is), shown on hover with `token_label`.
    """
    n = len(boxes)
    shapes, notes, xs, hover = [], [], [], []
    for i, b in enumerate(boxes):
        x0, x1 = i + 0.06, i + 0.94
        shapes.append(dict(type="rect", x0=x0, x1=x1, y0=0, y1=1, line=dict(color="#1f77b4"), fillcolor="#eef4fb"))
        notes.append(dict(x=i + 0.5, y=0.5, text=f"<b>{b.name}</b><br>{b.formula}<br><i>{b.shape}</i>"))
        if i:
            notes.append(dict(x=i + 0.06, y=0.5, ax=i - 0.06, ay=0.5, axref="x", ayref="y", text="", showarrow=True))
        xs.append(i + 0.5)
        hover.append(_vector_hover(b, token_label))
    marker = dict(type="scatter", x=xs, y=[0.5] * n, mode="markers", marker=dict(size=60, opacity=0))
    data = [dict(marker, hovertext=hover, hoverinfo="text")]
    layout = dict(
        shapes=shapes,
        annotations=[dict(a, showarrow=a.get("showarrow", False), arrowhead=2, font=dict(size=11)) for a in notes],
        xaxis=dict(range=[0, n], visible=False, fixedrange=True),
        yaxis=dict(range=[-0.05, 1.05], visible=False, fixedrange=True),
        height=150,
        margin=dict(l=5, r=5, t=5, b=5),
        plot_bgcolor="white",
        paper_bgcolor="white",
        showlegend=False,
    )
    return figure(data, layout, template=None)


def _vector_hover(box, token_label, first=8):
    if box.values is None:
        return box.name
    v = np.asarray(box.values, dtype=np.float64)
    more = f", … ({len(v)} numbers)" if len(v) > first else ""
    part = f", {box.part}" if getattr(box, "part", "") else ""
    return f"{token_label}{part}: [" + ", ".join(f"{x:.3f}" for x in v[:first]) + more + "]"

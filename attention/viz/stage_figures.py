"""Figures for Inside a head: stage matrices side by side, and the pipeline diagram of one token."""

import numpy as np
import plotly.graph_objects as go

from attention.viz.figures import (
    CELL_TEXT_LAYOUT,
    COLORBAR_PX,
    DIVERGING,
    SCALE,
    TICKS_UP_TO,
    WIDTH,
    colorbar,
    numbers_fit,
    spans,
)


def matrices(mats, rows, cols, titles, masked=None, unit=False, height=None):
    """Labelled matrices side by side in one figure, on one colour scale; masked cells blank and hatched.

    mats: list of (R, C_i) arrays sharing the row labels `rows`; cols: one list of column labels per matrix.
    masked: None, or one (R, C_i) bool array (or None) per matrix, True = masked: no colour, hatched,
    hover says "masked" (never the fill value). unit: weights on 0..1 (white to blue); otherwise
    values on a scale symmetric around 0 (red negative, blue positive). Panel widths follow the
    column counts. Hover: row → column: value to 4 decimals. Titles may break lines with <br>.
    Values are written in a panel's cells when they are readable at the page's width (figures.numbers_fit).
    """
    mats = [np.asarray(m, dtype=np.float32) for m in mats]
    masked = masked or [None] * len(mats)
    R = len(rows)
    widths = np.array([max(m.shape[1], R / 8) for m in mats], dtype=np.float64)  # a 1-column panel stays visible
    gap = 0.06 if max(len(c) for c in cols) <= TICKS_UP_TO else 0.03
    xs = spans(widths, gap)
    height = height or int(min(760, max(150, R * max(9, min(34, 640 / R)) + 130)))
    finite = [np.abs(m[~k]) if k is not None else np.abs(m) for m, k in zip(mats, masked)]
    top = max([float(f.max()) for f in finite if f.size] + [1e-6])
    t_margin = 24 + 16 * max(t.count("<br>") + 1 for t in titles)  # room for the titles
    left = 10 + int(5.5 * max(map(len, map(str, rows)))) if R <= 64 else 10  # 9 px row labels, automargin
    cell_h = (height - t_margin - 10) / R
    data, layout, notes = [], {}, []
    for p, (z, c_labels, title, mask) in enumerate(zip(mats, cols, titles, masked)):
        n = "" if p == 0 else str(p + 1)
        shown = z if mask is None else np.where(mask, np.nan, z).astype(np.float32)
        cell_w = (xs[p][1] - xs[p][0]) * (WIDTH - left - COLORBAR_PX) / z.shape[1]
        data.append(_matrix_trace(shown, rows, c_labels, mask, title, n, _cell_text(shown, mask, cell_w, cell_h)))
        tick = dict(type="category", showgrid=False, zeroline=False, tickfont=dict(size=9))
        layout["xaxis" + n] = dict(tick, domain=xs[p], anchor="y" + n, tickangle=-60)
        layout["xaxis" + n]["showticklabels"] = len(c_labels) <= TICKS_UP_TO
        layout["yaxis" + n] = dict(tick, anchor="x" + n, autorange="reversed", showticklabels=p == 0 and R <= 64)
        notes.append(dict(text=title, x=sum(xs[p]) / 2, y=1, xref="paper", yref="paper", yanchor="bottom"))
    shapes = [_hatch(k, n) for k, n in zip(masked, ["" if p == 0 else str(p + 1) for p in range(len(mats))])]
    layout.update(
        annotations=[dict(a, showarrow=False, font=dict(size=13)) for a in notes],
        shapes=[s for s in shapes if s is not None],
        coloraxis=dict(
            colorscale=SCALE if unit else DIVERGING,
            cmin=0 if unit else -top,
            cmax=1 if unit else top,
            colorbar=colorbar("weight" if unit else "value"),
        ),
        **CELL_TEXT_LAYOUT,
        height=height,
        margin=dict(l=10, r=10, t=t_margin, b=10),
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    return go.Figure(dict(data=data, layout=layout), skip_invalid=False, _validate=False)


def _cell_text(z, mask, cell_w, cell_h):
    """The values to 2 decimals for the cells (masked ones blank), an (R, C) object array; None if they would
    not be readable in cells of about cell_w × cell_h px."""
    if not numbers_fit(4, cell_w, cell_h):  # "0.12" is as short as they come: big matrices stop here
        return None
    text = np.char.mod("%.2f", np.nan_to_num(z).astype(np.float64)).astype(object)
    if mask is not None:
        text[mask] = ""
    return text if numbers_fit(max(map(len, text.flat)), cell_w, cell_h) else None


def _matrix_trace(z, rows, cols, mask, title, n, text=None):
    """One heatmap of `matrices`: NaN cells are gaps, `text` (or None) written in the cells. With a mask, hover
    text comes from customdata so masked cells say "masked"; without one, from z (no per-cell strings to send)."""
    hover, value = None, "%{z:.4f}"
    if mask is not None:
        hover = np.char.mod("%.4f", np.nan_to_num(z).astype(np.float64)).astype(object)
        hover[mask] = "masked"
        hover, value = hover.tolist(), "%{customdata}"
    return dict(
        type="heatmap",
        z=z,
        x=[str(c) for c in cols],
        y=[str(r) for r in rows],
        xaxis="x" + n,
        yaxis="y" + n,
        coloraxis="coloraxis",
        customdata=hover,
        hovertemplate="%{y} → %{x}: " + value + "<extra>" + title + "</extra>",
        text=None if text is None else text.tolist(),
        texttemplate=None if text is None else "%{text}",  # textfont size "auto": plotly fits it to the cell
        hoverongaps=mask is not None,
    )


def _hatch(mask, n):
    """A path shape hatching every run of masked cells of one panel (category axes: cell i spans i±0.5)."""
    if mask is None or not np.asarray(mask).any():
        return None
    mask = np.asarray(mask, dtype=bool)
    R, C = mask.shape
    step = max(0.25, max(R, C) / 30)  # spacing between hatch lines, in cells
    path = []
    for i in range(R):
        j = 0
        while j < C:
            if not mask[i, j]:
                j += 1
                continue
            j0 = j
            while j < C and mask[i, j]:
                j += 1
            path.append(_hatch_run(j0 - 0.5, j - 0.5, i - 0.5, i + 0.5, step))
    return dict(type="path", path="".join(path), xref="x" + n, yref="y" + n, line=dict(color="#9e9e9e", width=1))


def _hatch_run(xa, xb, ya, yb, step):
    """Diagonal lines x = y + c clipped to the rectangle [xa, xb] × [ya, yb], as SVG path commands."""
    out = []
    c = xa - yb + step / 2
    while c < xb - ya:
        y0, y1 = max(ya, xa - c), min(yb, xb - c)
        if y1 > y0:
            out.append(f"M{y0 + c:.3f},{y0:.3f}L{y1 + c:.3f},{y1:.3f}")
        c += step
    return "".join(out)


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
    return go.Figure(dict(data=data, layout=layout), skip_invalid=False, _validate=False)


def _vector_hover(box, token_label, first=8):
    if box.values is None:
        return box.name
    v = np.asarray(box.values, dtype=np.float64)
    more = f", … ({len(v)} numbers)" if len(v) > first else ""
    part = f", {box.part}" if getattr(box, "part", "") else ""
    return f"{token_label}{part}: [" + ", ".join(f"{x:.3f}" for x in v[:first]) + more + "]"

"""Attention heatmaps, one builder for every kind: Explore's grid of heads, Inside a head's stage matrices.

Panels share one colour scale; masked cells are blank and hatched. Built as a plain spec (no per-property
validation): plotly's checks cost more than the data at 8 heads.
"""

from dataclasses import dataclass

import numpy as np

from attention.viz.style import (
    CELL_TEXT_LAYOUT,
    COLORBAR_PX,
    DIVERGING,
    SCALE,
    TICKS_UP_TO,
    WIDTH,
    colorbar,
    figure,
    numbers_fit,
    spans,
)


@dataclass
class _Place:
    """Where the panels go: per panel its x and y domain and its cells' size in px; the figure's height, margins."""

    boxes: list
    cells: list
    per_row: int
    height: int
    margin: dict
    fixed: bool  # margins fixed by the builder (automargin off: plotly's re-layout cost 2x the draw)


def heatmaps(mats, rows, titles, cols=None, masked=None, scale="weight", wrap=None, width=WIDTH, height=None):
    """Matrices as heatmaps in one figure, on one colour scale.

    mats: (R, C_i) arrays sharing the row labels `rows` (queries, tokens, dims); cols: one list of column labels
    per matrix (default: `rows`, a token-by-token attention matrix). titles: one per panel, may break with <br>.
    masked: None, or one (R, C_i) bool array (or None) per matrix, True = masked out: no colour, hatched, hover
    says "masked" (never the fill value). scale: "weight" (0..1, white to blue), "change" (-1..1, red = lost,
    blue = gained), "value" (symmetric around 0 up to the largest |value|).
    wrap: None = one row of panels, widths following their column counts; k = a grid of square panels, k per
    row, tick labels on the outer panels only, like a facet plot (drawing 8 x 2 x 32 rotated labels was 3/4 of
    the browser's time). width: the figure's width in px at a 1400 px window (WIDTH, HALF_WIDTH); values are
    written in a panel's cells only when readable at that width (style.numbers_fit). Hover names row and column.
    """
    mats = [np.asarray(m, dtype=np.float32) for m in mats]
    cols = cols or [rows] * len(mats)
    masked = masked or [None] * len(mats)
    top = max([float(np.abs(m if k is None else m[~k]).max(initial=0)) for m, k in zip(mats, masked)] + [1e-6])
    title_px = 24 + 16 * max(t.count("<br>") + 1 for t in titles)  # the top margin: room for the panel titles
    place = _grid(mats, rows, wrap, width, title_px) if wrap else _row(mats, rows, cols, width, height, title_px)
    data, layout, notes = [], {}, []
    for p, (z, c_labels, title, mask) in enumerate(zip(mats, cols, titles, masked)):
        n = "" if p == 0 else str(p + 1)
        (x0, x1), (y0, y1) = place.boxes[p]
        data.append(_trace(z, rows, c_labels, mask, title, n, place.cells[p]))
        tick = dict(type="category", showgrid=False, zeroline=False, tickfont=dict(size=9))
        if place.fixed:
            tick["automargin"] = False
        last_row, first_col = p + place.per_row >= len(mats), p % place.per_row == 0
        x_ticks, y_ticks = last_row and len(c_labels) <= TICKS_UP_TO, first_col and len(rows) <= TICKS_UP_TO
        layout["xaxis" + n] = dict(tick, domain=[x0, x1], anchor="y" + n, tickangle=-60, showticklabels=x_ticks)
        layout["yaxis" + n] = dict(tick, domain=[y0, y1], anchor="x" + n, autorange="reversed", showticklabels=y_ticks)
        notes.append(dict(text=title, x=(x0 + x1) / 2, y=y1, xref="paper", yref="paper", yanchor="bottom"))
    shapes = [_hatch(k, "" if p == 0 else str(p + 1)) for p, k in enumerate(masked)]
    low, high = dict(weight=(0, 1), change=(-1, 1), value=(-top, top))[scale]
    layout.update(
        annotations=[dict(a, showarrow=False, font=dict(size=13)) for a in notes],
        shapes=[s for s in shapes if s is not None],
        coloraxis=dict(
            colorscale=SCALE if scale == "weight" else DIVERGING, cmin=low, cmax=high, colorbar=colorbar(scale)
        ),
        **CELL_TEXT_LAYOUT,
        height=place.height,
        margin=place.margin,
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    return figure(data, layout, template=None)


def _grid(mats, rows, per_row, width, top):
    """Square panels, per_row to a row, first row on top; margins fixed to the longest tick label."""
    P, T = len(mats), len(rows)
    per_row = min(per_row, P)
    n_rows = -(-P // per_row)
    side = max(160, min(420, 14 * T + 60)) if P > 1 else max(300, min(700, 20 * T + 80))
    gap_px = 40  # room for the next row's title; column labels only under the bottom panels
    chars = max(map(len, map(str, rows))) if T <= TICKS_UP_TO else 0
    left, bottom = min(160, 10 + int(5.5 * chars)), min(160, 10 + int(4.8 * chars))  # 9 px font; keys at -60°
    height = n_rows * side + (n_rows - 1) * gap_px + top + 10 + bottom
    xs, ys = spans([1] * per_row, 0.02), spans([1] * n_rows, gap_px / height)[::-1]
    cell_w = (xs[0][1] - xs[0][0]) * (width - left - COLORBAR_PX) / T
    cell_h = (ys[0][1] - ys[0][0]) * (height - top - bottom) / T
    boxes = [(xs[p % per_row], ys[p // per_row]) for p in range(P)]
    margin = dict(l=left, r=10, t=top, b=bottom)
    return _Place(boxes, [(cell_w, cell_h)] * P, per_row, height, margin, fixed=True)


def _row(mats, rows, cols, width, height, top):
    """One row of panels as wide as their column counts (a 1-column panel stays visible); automargin labels."""
    R = len(rows)
    widths = np.array([max(m.shape[1], R / 8) for m in mats], dtype=np.float64)
    xs = spans(widths, 0.06 if max(len(c) for c in cols) <= TICKS_UP_TO else 0.03)
    height = height or int(min(760, max(150, R * max(9, min(34, 640 / R)) + 130)))
    left = 10 + int(5.5 * max(map(len, map(str, rows)))) if R <= TICKS_UP_TO else 10  # 9 px row labels
    cell_h = (height - top - 10) / R
    cells = [((x1 - x0) * (width - left - COLORBAR_PX) / m.shape[1], cell_h) for (x0, x1), m in zip(xs, mats)]
    margin = dict(l=10, r=10, t=top, b=10)
    return _Place([(x, (0, 1)) for x in xs], cells, len(mats), height, margin, fixed=False)


def _trace(z, rows, cols, mask, title, n, cell):
    """One panel. Unmasked: hover and cell text are formatted by plotly.js from z (no per-cell strings to send).
    Masked: masked cells are NaN gaps, and hover and text come as strings so those cells say "masked" and stay
    blank. Values are written in cells only when the longest of them is readable in a cell of `cell` px."""
    shown = z if mask is None else np.where(mask, np.nan, z).astype(np.float32)
    values = z if mask is None else z[~mask]
    longest = len(f"{float(np.abs(values).max(initial=0)):.2f}") + bool((values < 0).any())  # "-0.12": 5
    fits = numbers_fit(longest, *cell)
    trace = dict(
        type="heatmap",
        z=shown,
        x=[str(c) for c in cols],
        y=[str(r) for r in rows],
        xaxis="x" + n,
        yaxis="y" + n,
        coloraxis="coloraxis",
        hovertemplate="%{y} → %{x}: %{z:.4f}<extra>" + title + "</extra>",
        texttemplate="%{z:.2f}" if fits else None,  # textfont size "auto": plotly fits it to the drawn cell
    )
    if mask is not None:
        hover = np.char.mod("%.4f", np.nan_to_num(z).astype(np.float64)).astype(object)
        hover[mask] = "masked"
        trace.update(customdata=hover.tolist(), hovertemplate="%{y} → %{x}: %{customdata}<extra>" + title + "</extra>")
        if fits:
            text = np.char.mod("%.2f", z.astype(np.float64)).astype(object)
            text[mask] = ""
            trace.update(text=text.tolist(), texttemplate="%{text}")
    return trace


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

"""Attention heatmaps: every head's weights in a grid (Explore), one head's stage matrices (Inside a head)."""

import numpy as np
import plotly.graph_objects as go

from attention.viz.style import (
    CELL_TEXT_LAYOUT,
    COLORBAR_PX,
    DIVERGING,
    SCALE,
    TICKS_UP_TO,
    WIDTH,
    axis_labels,
    colorbar,
    numbers_fit,
    spans,
)


def attention_grid(weights, tokens, titles=None, cols=4, diverging=False, width=WIDTH):
    """One heatmap per head in a single figure with a shared colour scale (0..1, or -1..1 when diverging).

    weights: (P, T, T) array, rows = queries (y axis), columns = keys (x axis).
    diverging: the panels are differences (red = lost attention, blue = gained).
    width: the figure's width in px at a 1400 px window (WIDTH, HALF_WIDTH); weights are written in the cells
    only if they are readable at that width (see numbers_fit).
    Built as a plain spec (no per-property validation): plotly's checks cost more than the data at 8 heads.
    Every panel has the same tokens, so like a facet plot only the outer panels carry tick labels (queries on
    the left column, keys on the bottom panel of each column): drawing 8 x 2 x 32 rotated labels was 3/4 of
    the browser's time for the figure. Hover names the tokens everywhere.
    """
    # Long on purpose: the layout is one computation (panel sizes, margins, ticks), split it and it scatters.
    w = np.asarray(weights, dtype=np.float32)
    P, T, _ = w.shape
    cols = min(cols, P)
    rows = -(-P // cols)
    titles = titles or [f"head {h + 1}" for h in range(P)]
    show_ticks = T <= TICKS_UP_TO
    side = max(160, min(420, 14 * T + 60)) if P > 1 else max(300, min(700, 20 * T + 80))
    gap_px = 40  # room for the next row's title; key labels only under the bottom panels
    labels = axis_labels(tokens)
    # Fixed margins sized to the longest label: plotly's automargin re-lays the figure out and cost 2x the draw.
    chars = max(map(len, labels)) if show_ticks else 0
    left, bottom = min(160, 10 + int(5.5 * chars)), min(160, 10 + int(4.8 * chars))  # 9 px font; keys at -60°
    height = rows * side + (rows - 1) * gap_px + 50 + bottom
    xs, ys = spans([1] * cols, 0.02), spans([1] * rows, gap_px / height)
    cell_w = (xs[0][1] - xs[0][0]) * (width - left - COLORBAR_PX) / T
    cell_h = (ys[0][1] - ys[0][0]) * (height - 40 - bottom) / T
    digits = 5 if (w < 0).any() else 4  # "0.12", "-0.12"
    text = "%{z:.2f}" if numbers_fit(digits, cell_w, cell_h) else None
    tick = dict(tickfont=dict(size=9), type="category", showgrid=False, zeroline=False, automargin=False)
    data, layout = [], {}
    for h in range(P):
        n = "" if h == 0 else str(h + 1)
        x0, x1 = xs[h % cols]
        y0, y1 = ys[::-1][h // cols]  # first row on top
        data.append(
            dict(
                type="heatmap",
                z=w[h],
                x=labels,
                y=labels,
                xaxis="x" + n,
                yaxis="y" + n,
                coloraxis="coloraxis",
                hovertemplate="%{y} → %{x}: %{z:.3f}<extra>" + titles[h] + "</extra>",
                texttemplate=text,  # textfont size "auto": plotly fits it to the drawn cell
            )
        )
        last_row, first_col = h + cols >= P, h % cols == 0  # no panel below it / first in its row
        xt = dict(tick, showticklabels=show_ticks and last_row)
        yt = dict(tick, showticklabels=show_ticks and first_col)
        layout["xaxis" + n] = dict(xt, domain=[x0, x1], anchor="y" + n, tickangle=-60)
        layout["yaxis" + n] = dict(yt, domain=[y0, y1], anchor="x" + n, autorange="reversed")
    titles_ = [
        dict(text=t, x=sum(xs[h % cols]) / 2, y=ys[::-1][h // cols][1], xref="paper", yref="paper", showarrow=False)
        for h, t in enumerate(titles)
    ]
    layout.update(
        annotations=[dict(a, yanchor="bottom", font=dict(size=13)) for a in titles_],
        coloraxis=dict(
            colorscale=DIVERGING if diverging else SCALE,
            cmin=-1 if diverging else 0,
            cmax=1,
            colorbar=colorbar("change" if diverging else "weight"),
        ),
        **CELL_TEXT_LAYOUT,
        height=height,
        margin=dict(l=left, r=10, t=40, b=bottom),
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    return go.Figure(dict(data=data, layout=layout), skip_invalid=False, _validate=False)


def matrices(mats, rows, cols, titles, masked=None, unit=False, height=None):
    """Labelled matrices side by side in one figure, on one colour scale; masked cells blank and hatched.

    mats: list of (R, C_i) arrays sharing the row labels `rows`; cols: one list of column labels per matrix.
    masked: None, or one (R, C_i) bool array (or None) per matrix, True = masked: no colour, hatched,
    hover says "masked" (never the fill value). unit: weights on 0..1 (white to blue); otherwise
    values on a scale symmetric around 0 (red negative, blue positive). Panel widths follow the
    column counts. Hover: row → column: value to 4 decimals. Titles may break lines with <br>.
    Values are written in a panel's cells when they are readable at the page's width (style.numbers_fit).
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

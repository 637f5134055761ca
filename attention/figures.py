"""Plotly figure builders: arrays in, a figure out. One builder per kind of figure, shared by every page.

Figures set their own template and colours, so they look the same exported
outside Streamlit (which otherwise swaps in its own theme).
"""

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def _scale(colors):
    """A plotly colorscale spelled out, so plotly.js draws the same colours as plotly.py (its named ones differ)."""
    return [[i / (len(colors) - 1), c] for i, c in enumerate(colors)]


SCALE = _scale(pc.sequential.Blues)  # 0 = white, 1 = dark blue
DIVERGING = _scale(pc.diverging.RdBu)  # negative = red, positive = blue
TEMPLATE = "plotly_white"
CELL_NUMBERS_UP_TO = 12  # write weights in the cells when a sentence has at most this many tokens
TICKS_UP_TO = 48  # beyond this many tokens, tick labels cost more than they tell (hover still names tokens)


def axis_labels(tokens):
    """Unique labels by position ('3:the'), so repeated words get their own row and column."""
    return [f"{i}:{t}" for i, t in enumerate(tokens)]


def attention_grid(weights, tokens, titles=None, cols=4, diverging=False):
    """One heatmap per head in a single figure with a shared colour scale (0..1, or -1..1 when diverging).

    weights: (P, T, T) array, rows = queries (y axis), columns = keys (x axis).
    diverging: the panels are differences (red = lost attention, blue = gained).
    Built as a plain spec (no per-property validation): plotly's checks cost more than the data at 8 heads.
    """
    w = np.asarray(weights, dtype=np.float32)
    P, T, _ = w.shape
    cols = min(cols, P)
    rows = -(-P // cols)
    titles = titles or [f"head {h + 1}" for h in range(P)]
    show_ticks = T <= TICKS_UP_TO
    side = max(160, min(420, 14 * T + 60)) if P > 1 else max(300, min(700, 20 * T + 80))
    gap_px = 90 if show_ticks else 40  # room for the rotated key labels and the next row's title
    height = rows * side + (rows - 1) * gap_px + 60
    xs, ys = _domains(cols, 0.08 if show_ticks else 0.02), _domains(rows, gap_px / height)
    labels = axis_labels(tokens)
    text = "%{z:.2f}" if T <= CELL_NUMBERS_UP_TO else None
    tick = dict(showticklabels=show_ticks, tickfont=dict(size=9), type="category", showgrid=False, zeroline=False)
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
                texttemplate=text,
                textfont=dict(size=9),
            )
        )
        layout["xaxis" + n] = dict(tick, domain=[x0, x1], anchor="y" + n, tickangle=-60)
        layout["yaxis" + n] = dict(tick, domain=[y0, y1], anchor="x" + n, autorange="reversed")
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
            colorbar=dict(title=dict(text="change" if diverging else "weight"), thickness=12),
        ),
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    return go.Figure(dict(data=data, layout=layout), skip_invalid=False, _validate=False)


def _domains(n, gap):
    """n equal [start, end] spans across 0..1 with `gap` between neighbours."""
    size = (1 - gap * (n - 1)) / n
    return [(i * (size + gap), i * (size + gap) + size) for i in range(n)]


def probabilities(classes, probs, predicted=None):
    """Horizontal bars: one per class, the predicted one highlighted."""
    probs = np.asarray(probs, dtype=np.float32)
    predicted = int(probs.argmax()) if predicted is None else predicted
    colors = ["#1f77b4" if i == predicted else "#aec7e8" for i in range(len(classes))]
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=list(classes),
            orientation="h",
            marker_color=colors,
            text=[f"{p:.1%}" for p in probs],
            textposition="auto",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis=dict(range=[0, 1], title="probability"),
        yaxis=dict(autorange="reversed"),
        height=60 + 28 * len(classes),
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


def curves(history):
    """Loss (per step and per epoch) and accuracy (per epoch) side by side."""
    epochs = history.get("epochs", [])
    steps = history.get("steps", [])
    fig = make_subplots(1, 2, subplot_titles=("loss", "accuracy"))
    if steps:
        per_epoch = max(1, epochs[0]["step"]) if epochs else len(steps)
        x = np.arange(1, len(steps) + 1, dtype=np.float32) / per_epoch
        fig.add_trace(
            go.Scatter(
                x=x, y=np.asarray(steps, np.float32), name="train loss (step)", line=dict(width=1, color="#aec7e8")
            ),
            1,
            1,
        )
    if epochs:
        ep = [e["epoch"] for e in epochs]
        for key, name, color, col in (
            ("train_loss", "train loss", "#1f77b4", 1),
            ("val_loss", "val loss", "#d62728", 1),
            ("train_acc", "train acc", "#1f77b4", 2),
            ("val_acc", "val acc", "#d62728", 2),
        ):
            fig.add_trace(
                go.Scatter(x=ep, y=[e[key] for e in epochs], name=name, mode="lines+markers", line=dict(color=color)),
                1,
                col,
            )
    fig.update_xaxes(title="epoch")
    fig.update_layout(
        template=TEMPLATE, height=320, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25)
    )
    return fig


def confusion(matrix, classes, normalize=False):
    """Annotated confusion matrix; rows = true class, columns = predicted. normalize: share of each true class."""
    m = np.asarray(matrix, dtype=np.float32)
    z = m / np.maximum(m.sum(axis=1, keepdims=True), 1) if normalize else m
    text = [[f"{v:.0%}" if normalize else f"{int(v)}" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(classes),
            y=list(classes),
            text=text,
            texttemplate="%{text}",
            colorscale=SCALE,
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
            showscale=False,
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis=dict(title="predicted", type="category"),
        yaxis=dict(title="true", autorange="reversed", type="category"),
        height=120 + 50 * len(classes),
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


def plain_labels(labels):
    """Labels that plotly shows as typed: its pseudo-HTML (<b>, <a href>...) is escaped as entities."""
    return [str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for s in labels]


def training_curves(history, steps_per_epoch=None, max_epochs=None):
    """curves() while training: step losses placed by the known steps per epoch, x axis fixed to all epochs."""
    fig = curves(history)
    if steps_per_epoch:  # curves() guesses it from epoch 1, which is wrong before it ends or if it was cut short
        set_step_losses(fig, history.get("steps", []), steps_per_epoch)
    if max_epochs:
        fig.update_xaxes(range=[0, max_epochs + 0.2])
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(uirevision="training")  # keep the person's zoom across redraws
    return fig


def seed_curves(rows, colors=("#9467bd", "#1f77b4", "#2ca02c", "#d62728")):
    """Validation accuracy per epoch for each head count: the mean over seeds, with a min-max band."""
    fig = go.Figure()
    for i, h in enumerate(sorted({r["heads"] for r in rows})):
        curves_ = [r["curve"] for r in rows if r["heads"] == h and r["curve"]]
        if not curves_:
            continue
        n = min(map(len, curves_))
        c = np.array([cv[:n] for cv in curves_], dtype=np.float32)  # (seeds, epochs)
        x = list(range(1, n + 1))
        color = colors[i % len(colors)]
        band = dict(mode="lines", line=dict(width=0, color=color), hoverinfo="skip", showlegend=False)
        fig.add_trace(go.Scatter(x=x, y=c.max(0), **band))
        fig.add_trace(go.Scatter(x=x, y=c.min(0), fill="tonexty", opacity=0.2, **band))
        name = f"{h} head{'s' * (h > 1)}"
        fig.add_trace(go.Scatter(x=x, y=c.mean(0), name=name, mode="lines+markers", line=dict(color=color)))
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="epoch",
        yaxis_title="validation accuracy",
        height=340,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def bars(labels, values, xaxis_title, highlight_negative=True):
    """Horizontal bars in the given order (first on top), negative values in red."""
    values = np.asarray(values, dtype=np.float32)
    colors = ["#d62728" if (v < 0 and highlight_negative) else "#1f77b4" for v in values]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=plain_labels(labels),
            orientation="h",
            marker_color=colors,
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=xaxis_title,
        yaxis=dict(autorange="reversed", type="category"),
        height=80 + 26 * len(values),
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


def line(x, y, xaxis_title, yaxis_title, reverse_x=False):
    """One line with markers, e.g. accuracy against heads kept."""
    fig = go.Figure(
        go.Scatter(x=list(x), y=list(y), mode="lines+markers", hovertemplate="%{x}: %{y:.4f}<extra></extra>")
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis=dict(title=xaxis_title, autorange="reversed" if reverse_x else True),
        yaxis_title=yaxis_title,
        height=300,
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


def matrix(z, labels, title="correlation"):
    """A square labelled matrix in -1..1 (e.g. how alike heads are), values written in the cells."""
    z = np.asarray(z, dtype=np.float32)
    labels = plain_labels(labels)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            colorscale=DIVERGING,
            zmin=-1,
            zmax=1,
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} ~ %{x}: %{z:.3f}<extra></extra>",
            colorbar=dict(title=dict(text=title), thickness=12),
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis=dict(type="category"),
        yaxis=dict(type="category", autorange="reversed"),
        height=140 + 40 * len(labels),
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


# --- Inside a head: stage matrices and the pipeline diagram -------------------------------------

CELL_TEXT_UP_TO = 12  # write values in the cells of matrices with at most this many rows and columns


def matrices(mats, rows, cols, titles, masked=None, unit=False, height=None):
    """Labelled matrices side by side in one figure, on one colour scale; masked cells blank and hatched.

    mats: list of (R, C_i) arrays sharing the row labels `rows`; cols: one list of column labels per matrix.
    masked: None, or one (R, C_i) bool array (or None) per matrix, True = masked: no colour, hatched,
    hover says "masked" (never the fill value). unit: weights on 0..1 (white to blue); otherwise
    values on a scale symmetric around 0 (red negative, blue positive). Panel widths follow the
    column counts. Hover: row → column: value to 4 decimals. Titles may break lines with <br>.
    """
    mats = [np.asarray(m, dtype=np.float32) for m in mats]
    masked = masked or [None] * len(mats)
    R = len(rows)
    widths = np.array([max(m.shape[1], R / 8) for m in mats], dtype=np.float64)  # a 1-column panel stays visible
    gap = 0.06 if max(len(c) for c in cols) <= TICKS_UP_TO else 0.03
    spans = _weighted_domains(widths / widths.sum(), gap)
    height = height or int(min(760, max(150, R * max(9, min(34, 640 / R)) + 130)))
    finite = [np.abs(m[~k]) if k is not None else np.abs(m) for m, k in zip(mats, masked)]
    top = max([float(f.max()) for f in finite if f.size] + [1e-6])
    data, layout, notes = [], {}, []
    for p, (z, c_labels, title, mask) in enumerate(zip(mats, cols, titles, masked)):
        n = "" if p == 0 else str(p + 1)
        shown = z if mask is None else np.where(mask, np.nan, z).astype(np.float32)
        data.append(_matrix_trace(shown, rows, c_labels, mask, title, n))
        tick = dict(type="category", showgrid=False, zeroline=False, tickfont=dict(size=9))
        layout["xaxis" + n] = dict(tick, domain=spans[p], anchor="y" + n, tickangle=-60)
        layout["xaxis" + n]["showticklabels"] = len(c_labels) <= TICKS_UP_TO
        layout["yaxis" + n] = dict(tick, anchor="x" + n, autorange="reversed", showticklabels=p == 0 and R <= 64)
        notes.append(dict(text=title, x=sum(spans[p]) / 2, y=1, xref="paper", yref="paper", yanchor="bottom"))
    shapes = [_hatch(k, n) for k, n in zip(masked, ["" if p == 0 else str(p + 1) for p in range(len(mats))])]
    layout.update(
        annotations=[dict(a, showarrow=False, font=dict(size=13)) for a in notes],
        shapes=[s for s in shapes if s is not None],
        coloraxis=dict(
            colorscale=SCALE if unit else DIVERGING,
            cmin=0 if unit else -top,
            cmax=1 if unit else top,
            colorbar=dict(title=dict(text="weight" if unit else "value"), thickness=12),
        ),
        height=height,
        margin=dict(l=10, r=10, t=24 + 16 * max(t.count("<br>") + 1 for t in titles), b=10),  # room for the titles
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    return go.Figure(dict(data=data, layout=layout), skip_invalid=False, _validate=False)


def _matrix_trace(z, rows, cols, mask, title, n):
    """One heatmap of `matrices`: NaN cells are gaps. With a mask, hover text comes from customdata so masked
    cells say "masked"; without one, from z (no per-cell strings to send)."""
    R, C = z.shape
    hover, value = None, "%{z:.4f}"
    if mask is not None:
        hover = np.char.mod("%.4f", np.nan_to_num(z).astype(np.float64)).astype(object)
        hover[mask] = "masked"
        hover, value = hover.tolist(), "%{customdata}"
    cells = R <= CELL_TEXT_UP_TO and C <= CELL_TEXT_UP_TO
    text = np.char.mod("%.2f", np.nan_to_num(z).astype(np.float64)).astype(object) if cells else None
    if text is not None and mask is not None:
        text[mask] = ""
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
        texttemplate="%{text}" if cells else None,
        textfont=dict(size=10),
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


def _weighted_domains(fracs, gap):
    """Spans across 0..1 (with `gap` between neighbours) whose widths are proportional to fracs."""
    free = 1 - gap * (len(fracs) - 1)
    out, x = [], 0.0
    for f in fracs:
        out.append((x, x + f * free))
        x += f * free + gap
    return out


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


def set_step_losses(fig, steps, steps_per_epoch):
    """Replace the per-step loss trace of a curves() figure in place (cheap, for redraws); False if it has none."""
    if not fig.data or fig.data[0].name != "train loss (step)":
        return False
    fig.data[0].x = np.arange(1, len(steps) + 1, dtype=np.float32) / steps_per_epoch
    fig.data[0].y = np.asarray(steps, np.float32)
    return True

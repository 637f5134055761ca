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
TICKS_UP_TO = 48  # beyond this many tokens, tick labels cost more than they tell (hover still names tokens)
# Figure widths in px at a 1400 px window with the sidebar open (measured): the builders cannot see the browser,
# so they decide at these widths whether numbers fit in the cells; a narrower window only shrinks them.
WIDTH = 940  # a chart across the page (Streamlit's wide layout)
HALF_WIDTH = 438  # a chart in one of st.columns(2, gap="large")
COLORBAR_PX = 110  # the right margin plotly makes for a titled colour bar
CELL_FONT, CELL_FONT_MIN = 10, 8  # px: numbers in cells at most this large; smaller than the least, none at all


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


def spans(widths, gap):
    """[start, end] spans across 0..1, `gap` between neighbours, sized in proportion to `widths`."""
    total, free = sum(widths), 1 - gap * (len(widths) - 1)
    out, x = [], 0.0
    for w in widths:
        out.append((x, x + w / total * free))
        x += w / total * free + gap
    return out


def probabilities(classes, probs, predicted=None):
    """Horizontal bars: one per class, the predicted one highlighted."""
    probs = np.asarray(probs, dtype=np.float32)
    predicted = int(probs.argmax()) if predicted is None else predicted
    colors = ["#1f77b4" if i == predicted else "#aec7e8" for i in range(len(classes))]
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=plain_labels(classes),  # class names come from uploads: show them as typed
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


CONFUSION_UP_TO = 20  # classes; with more, the matrix shows the most confused ones (the page lists the rest)


def most_confused(matrix, k):
    """Indices, in class order, of k classes: both classes of each most frequent mistake (off-diagonal cells,
    largest first, ties in class order) until there are k, so the biggest confusions are all in the figure;
    then, if fewer classes were ever confused, the first of the others."""
    off = np.array(matrix, copy=True)
    np.fill_diagonal(off, 0)
    t, p = np.nonzero(off)  # row-major: class order
    order = np.argsort(-off[t, p], kind="stable")
    pairs = np.stack([t[order], p[order]], axis=1).ravel()  # true, predicted, true, predicted...
    chosen = list(dict.fromkeys([*pairs.tolist(), *range(len(off))]))[:k]  # first appearances, in that order
    return np.sort(np.asarray(chosen, dtype=np.int64))


def confusion(matrix, classes, normalize=False, width=HALF_WIDTH):
    """Annotated confusion matrix; rows = true class, columns = predicted. normalize: share of each true class.

    More than CONFUSION_UP_TO classes: only the most confused ones (most_confused), rows and columns, and a
    title saying so; shares stay those of the whole row. Counts are written in the cells when they are readable
    at `width` px (numbers_fit).
    """
    m = np.asarray(matrix, dtype=np.float32)
    z = m / np.maximum(m.sum(axis=1, keepdims=True), 1) if normalize else m
    title, n_all = None, len(classes)
    if n_all > CONFUSION_UP_TO:
        keep = most_confused(m, CONFUSION_UP_TO)
        z, classes = z[np.ix_(keep, keep)], [classes[i] for i in keep]
        title = f"The {len(keep)} most confused of {n_all} classes (those of the most frequent mistakes)"
    text = [[f"{v:.0%}" if normalize else f"{int(v)}" for v in row] for row in z]
    n = len(classes)
    row_px = max(22, min(50, 600 / n))  # 2 classes: 50 px rows; 20 classes: 30 px
    left = 30 + int(6.5 * max(map(len, map(str, classes))))  # 12 px class names and the axis title
    fits = numbers_fit(max(len(t) for r in text for t in r), (width - left - 10) / n, row_px)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(classes),
            y=list(classes),
            text=text,
            texttemplate="%{text}" if fits else None,  # textfont size "auto": plotly fits it to the drawn cell
            colorscale=SCALE,
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
            showscale=False,
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title, font=dict(size=13)) if title else None,
        xaxis=dict(title="predicted", type="category"),
        yaxis=dict(title="true", autorange="reversed", type="category"),
        height=int(120 + row_px * n) + (30 if title else 0),
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
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


def set_step_losses(fig, steps, steps_per_epoch):
    """Replace the per-step loss trace of a curves() figure in place (cheap, for redraws); False if it has none."""
    if not fig.data or fig.data[0].name != "train loss (step)":
        return False
    fig.data[0].x = np.arange(1, len(steps) + 1, dtype=np.float32) / steps_per_epoch
    fig.data[0].y = np.asarray(steps, np.float32)
    return True

"""Labelled matrices: a confusion matrix, how alike heads are; one builder draws both."""

import numpy as np

from attention.viz.style import DIVERGING, HALF_WIDTH, SCALE, figure, numbers_fit, plain_labels

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


def labelled_matrix(
    z, labels, cell_text, hover, row_px, axes=(None, None), title=None, scale=None, pad_px=120, **heatmap
):
    """A square matrix with a label on every row and column (rows top to bottom), cell_text written in the cells
    (None: nothing written). axes: (row, column) titles; scale: the colour bar's title, or None for no bar.
    heatmap: colorscale, zmin, zmax for go.Heatmap."""
    labels = plain_labels(labels)  # class names come from uploads: show them as typed
    bar = dict(showscale=False) if scale is None else dict(colorbar=dict(title=dict(text=scale), thickness=12))
    written = "%{text}" if cell_text is not None else None  # textfont "auto": plotly fits it to the drawn cell
    cells = dict(z=z, x=labels, y=labels, text=cell_text, texttemplate=written, hovertemplate=hover)
    layout = dict(
        xaxis=dict(title=dict(text=axes[1]), type="category"),
        yaxis=dict(title=dict(text=axes[0]), autorange="reversed", type="category"),
        height=int(pad_px + row_px * len(labels)) + (30 if title else 0),
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
    )
    if title:
        layout["title"] = dict(text=title, font=dict(size=13))
    return figure([dict(type="heatmap", **cells, **bar, **heatmap)], layout)


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
    hover = "true %{y}, predicted %{x}: %{text}<extra></extra>"
    axes = ("true", "predicted")
    return labelled_matrix(z, classes, text if fits else None, hover, row_px, axes, title, colorscale=SCALE)


def matrix(z, labels, title="correlation"):
    """How alike heads are: a square matrix in -1..1, values written in the cells."""
    z = np.asarray(z, dtype=np.float32)
    text = [[f"{v:.2f}" for v in row] for row in z]
    hover = "%{y} ~ %{x}: %{z:.3f}<extra></extra>"
    return labelled_matrix(z, labels, text, hover, 40, scale=title, pad_px=140, colorscale=DIVERGING, zmin=-1, zmax=1)

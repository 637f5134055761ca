"""Figures for the Heads lab: the seed experiment, ablation bars, the pruning line, head similarity."""

import numpy as np
import plotly.graph_objects as go

from attention.viz.figures import DIVERGING, TEMPLATE, plain_labels


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

"""Line charts: training curves (live and saved), accuracy as heads are pruned, the seed experiment."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from attention.viz.style import TEMPLATE


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


def line_chart(traces, xaxis, yaxis_title, height, legend_y=None):
    """Lines (go.Scatter traces) on one pair of axes; a legend below the plot when legend_y is given."""
    fig = go.Figure(traces)
    legend = {} if legend_y is None else dict(legend=dict(orientation="h", y=legend_y))
    fig.update_layout(
        template=TEMPLATE,
        xaxis=xaxis,
        yaxis_title=yaxis_title,
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        **legend,
    )
    return fig


def seed_curves(rows, colors=("#9467bd", "#1f77b4", "#2ca02c", "#d62728")):
    """Validation accuracy per epoch for each head count: the mean over seeds, with a min-max band."""
    traces = []
    for i, h in enumerate(sorted({r["heads"] for r in rows})):
        curves_ = [r["curve"] for r in rows if r["heads"] == h and r["curve"]]
        if not curves_:
            continue
        n = min(map(len, curves_))
        c = np.array([cv[:n] for cv in curves_], dtype=np.float32)  # (seeds, epochs)
        x = list(range(1, n + 1))
        color = colors[i % len(colors)]
        band = dict(mode="lines", line=dict(width=0, color=color), hoverinfo="skip", showlegend=False)
        traces.append(go.Scatter(x=x, y=c.max(0), **band))
        traces.append(go.Scatter(x=x, y=c.min(0), fill="tonexty", opacity=0.2, **band))
        name = f"{h} head{'s' * (h > 1)}"
        traces.append(go.Scatter(x=x, y=c.mean(0), name=name, mode="lines+markers", line=dict(color=color)))
    return line_chart(traces, dict(title="epoch"), "validation accuracy", 340, legend_y=-0.2)


def line(x, y, xaxis_title, yaxis_title, reverse_x=False):
    """One line with markers, e.g. accuracy against heads kept."""
    trace = go.Scatter(x=list(x), y=list(y), mode="lines+markers", hovertemplate="%{x}: %{y:.4f}<extra></extra>")
    xaxis = dict(title=xaxis_title, autorange="reversed" if reverse_x else True)
    return line_chart([trace], xaxis, yaxis_title, 300)

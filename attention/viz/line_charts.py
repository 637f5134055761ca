"""Line charts: training curves (live and saved), accuracy as heads are pruned, the seed experiment."""

import numpy as np

from attention.viz.style import figure

EPOCH_TRACES = (  # history key, name, colour, column
    ("train_loss", "train loss", "#1f77b4", 1),
    ("val_loss", "val loss", "#d62728", 1),
    ("train_acc", "train acc", "#1f77b4", 2),
    ("val_acc", "val acc", "#d62728", 2),
)


def curves(history, steps_per_epoch=None, max_epochs=None):
    """Loss (per step and per epoch) and accuracy (per epoch) side by side. Give steps_per_epoch while training
    (otherwise it is read from epoch 1) and max_epochs to fix the x axis to every epoch to come."""
    data = [dict(type="scatter", x=[], y=[], name="train loss (step)", line=dict(width=1, color="#aec7e8"))]
    for _, name, color, col in EPOCH_TRACES:
        axes = dict(xaxis="x" if col == 1 else "x2", yaxis="y" if col == 1 else "y2")
        data.append(dict(type="scatter", x=[], y=[], name=name, mode="lines+markers", line=dict(color=color), **axes))
    x = dict(title=dict(text="epoch"), range=[0, max_epochs + 0.2] if max_epochs else None)
    titles = [
        dict(text=t, x=x0, y=1, xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False)
        for t, x0 in (("loss", 0.225), ("accuracy", 0.775))
    ]
    layout = dict(
        xaxis=dict(x, domain=[0, 0.45], anchor="y"),
        xaxis2=dict(x, domain=[0.55, 1], anchor="y2"),
        yaxis=dict(anchor="x"),
        yaxis2=dict(anchor="x2", range=[0, 1.02]),
        annotations=titles,
        height=320,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", y=-0.25),
        uirevision=1,  # redraws keep the person's zoom
    )
    return update_curves(figure(data, layout), history, steps_per_epoch)


def update_curves(fig, history, steps_per_epoch=None):
    """Put `history` into a curves() figure, in place: a redraw costs only its arrays, not a new figure (building
    one takes plotly tens of milliseconds, on the web server's one interpreter, twice a second per training)."""
    epochs, steps = history.get("epochs", []), history.get("steps", [])
    per_epoch = steps_per_epoch or (max(1, epochs[0]["step"]) if epochs else max(1, len(steps)))
    fig.data[0].x = np.arange(1, len(steps) + 1, dtype=np.float32) / per_epoch
    fig.data[0].y = np.asarray(steps, np.float32)
    x = np.array([e["epoch"] for e in epochs], dtype=np.float32)
    for trace, (key, *_) in zip(fig.data[1:], EPOCH_TRACES):
        trace.x, trace.y = x, np.array([e[key] for e in epochs], dtype=np.float32)
    return fig


def line_chart(traces, xaxis, yaxis_title, height, legend_y=None):
    """Lines (scatter trace dicts) on one pair of axes; a legend below the plot when legend_y is given."""
    layout = dict(xaxis=xaxis, yaxis=dict(title=dict(text=yaxis_title)), height=height)
    layout.update(margin=dict(l=10, r=10, t=10, b=10))
    if legend_y is not None:
        layout["legend"] = dict(orientation="h", y=legend_y)
    return figure([dict(type="scatter", **t) for t in traces], layout)


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
        traces.append(dict(x=x, y=c.max(0), **band))
        traces.append(dict(x=x, y=c.min(0), fill="tonexty", opacity=0.2, **band))
        name = f"{h} head{'s' * (h > 1)}"
        traces.append(dict(x=x, y=c.mean(0), name=name, mode="lines+markers", line=dict(color=color)))
    return line_chart(traces, dict(title=dict(text="epoch")), "validation accuracy", 340, legend_y=-0.2)


def line(x, y, xaxis_title, yaxis_title, reverse_x=False):
    """One line with markers, e.g. accuracy against heads kept."""
    trace = dict(x=list(x), y=list(y), mode="lines+markers", hovertemplate="%{x}: %{y:.4f}<extra></extra>")
    xaxis = dict(title=dict(text=xaxis_title), autorange="reversed" if reverse_x else True)
    return line_chart([trace], xaxis, yaxis_title, 300)


def paired_seeds(rows):
    """Test accuracy (%) per head count, one grey line per seed joining its runs (the pairs the test compares),
    and the mean over seeds in colour."""
    heads = sorted({r["heads"] for r in rows})
    x = [f"{h} head{'s' * (h > 1)}" for h in heads]
    acc = {(r["seed"], r["heads"]): r["test_acc"] * 100 for r in rows}
    traces = []
    for seed in sorted({r["seed"] for r in rows}):
        y = [acc.get((seed, h)) for h in heads]
        hover = f"seed {seed}: " + "%{y:.2f}%<extra></extra>"
        traces.append(dict(x=x, y=y, mode="lines+markers", line=dict(color="#bbbbbb", width=1),
                           marker=dict(size=5), hovertemplate=hover, showlegend=False))  # fmt: skip
    mean = [np.mean([v for (s, h2), v in acc.items() if h2 == h]) for h in heads]
    traces.append(dict(x=x, y=mean, name="mean over seeds", mode="markers", marker=dict(size=11, color="#d62728")))
    return line_chart(traces, dict(type="category"), "test accuracy (%)", 340, legend_y=-0.15)

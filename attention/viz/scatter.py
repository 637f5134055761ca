"""Scatter plots: one point per head, coloured by a group (the Heads lab's map of all heads)."""

from attention.viz.style import figure, plain_labels

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")


def points(x, y, names, groups, xaxis, yaxis, height=460, named_up_to=16):
    """Points at (x, y) named `names` (written beside them up to `named_up_to` points, on hover always), one trace
    per group (its legend entry), in the order groups first appear; each point's customdata is its index in the
    inputs, so a selection says which ones were picked."""
    mode = "markers+text" if len(names) <= named_up_to else "markers"
    traces = []
    for k, group in enumerate(dict.fromkeys(groups)):
        idx = [i for i, g in enumerate(groups) if g == group]
        traces.append(
            dict(
                type="scatter",
                mode=mode,
                textposition="top center",
                name=group,
                x=[x[i] for i in idx],
                y=[y[i] for i in idx],
                text=plain_labels([names[i] for i in idx]),
                customdata=idx,
                marker=dict(size=10, color=COLORS[k % len(COLORS)], line=dict(width=1, color="white")),
                hovertemplate="%{text}<br>" + f"{xaxis}: %{{x:.3f}}<br>{yaxis}: %{{y:.3f}}<extra>{group}</extra>",
            )
        )
    layout = dict(
        xaxis=dict(title=dict(text=xaxis)),
        yaxis=dict(title=dict(text=yaxis)),
        height=height,
        showlegend=True,
        legend=dict(orientation="h", y=-0.18),
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return figure(traces, layout)

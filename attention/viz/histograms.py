"""Histograms: several samples overlaid on one axis (the Learn page's dot products, raw and scaled)."""

from attention.viz.style import figure

COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")


def overlaid(samples, xaxis, bins=60, height=320):
    """{name: values} as overlaid, see-through histograms, each with `bins` bins."""
    traces = [
        dict(type="histogram", x=list(map(float, v)), name=name, opacity=0.55, nbinsx=bins, marker_color=COLORS[i])
        for i, (name, v) in enumerate(samples.items())
    ]
    layout = dict(xaxis=dict(title=dict(text=xaxis)), yaxis=dict(title=dict(text="count")), height=height)
    layout.update(barmode="overlay", legend=dict(orientation="h", y=-0.25), margin=dict(l=10, r=10, t=10, b=10))
    return figure(traces, layout)

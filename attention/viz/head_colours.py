"""All of a layer's heads in one heatmap, one colour per head: each cell takes the colour of the head that attends
most from its query to its key, as light as that weight is small."""

from attention.viz.style import HALF_WIDTH, figure, plain_labels

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
          "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd")  # fmt: skip


def colorscale(heads):
    """Head h owns the band [h, h + 1) / heads of the scale, white at its start and its colour at its end."""
    stops = []
    for h in range(heads):
        low, high = h / heads, (h + 1) / heads - 1e-6
        stops += [[low, "#ffffff"], [high, COLORS[h % len(COLORS)]]]
    stops[-1][0] = 1.0
    return stops


def one_colour_per_head(head, weight, labels, heads):
    """head (T, T) ints and weight (T, T) in 0..1 (views.strongest_head) as one heatmap; hover names both."""
    z = (head + weight.clip(0, 0.999999)) / heads  # head h's cells within its band
    names = [[f"head {h + 1}" for h in row] for row in head.tolist()]
    labels = plain_labels(labels)
    trace = dict(type="heatmap", z=z.tolist(), x=labels, y=labels, zmin=0, zmax=1, colorscale=colorscale(heads),
                 showscale=False, customdata=names, text=weight.round(3).tolist(),
                 hovertemplate="%{y} → %{x}: %{customdata} attends most, %{text}<extra></extra>")  # fmt: skip
    key = "   ".join(f"<span style='color:{COLORS[h % len(COLORS)]}'>■ head {h + 1}</span>" for h in range(heads))
    legend = [dict(x=0, y=1.02, xref="paper", yref="paper", xanchor="left", yanchor="bottom", showarrow=False,
                   text=key, font=dict(size=12))]  # fmt: skip
    size = max(HALF_WIDTH, 22 * len(labels) + 120)
    layout = dict(yaxis=dict(autorange="reversed", type="category"), xaxis=dict(type="category", tickangle=-45),
                  annotations=legend, height=size, width=size, margin=dict(l=10, r=10, t=40, b=10))  # fmt: skip
    return figure([trace], layout)

"""Plotly figure builders: the right traces, shared scales, and labels by position (heatmaps: test_packed.py)."""

import numpy as np
import pytest

from attention.viz import bar_charts, head_colours, histograms, labelled, line_charts, scatter, style

SENTENCE = "the flight was late and the crew was very rude to us so we will never fly with them again".split()


def test_cell_font_is_plotlys_automatic_size():
    # plotly.js: floor(cell width / characters / 0.65), floor(cell height / 1.3), at most the layout font
    assert style.cell_font(4, 22.8, 22.6) == 8  # "0.12" in Explore's 4-column grid, 8 tokens, 1400 px
    assert style.cell_font(4, 15.2, 19.7) == 5  # the same grid at 12 tokens
    assert style.cell_font(4, 30, 10) == 7  # a short cell: the line height decides
    assert style.cell_font(2, 200, 200) == style.CELL_FONT
    assert style.numbers_fit(4, 22.8, 22.6) and not style.numbers_fit(4, 18.3, 20.8)  # 8 vs 10 tokens


def test_plotlys_cell_text_has_a_page_style_below_the_least_size():
    assert '[style*="font-size: 7px;"]' in style.CELL_TEXT_CSS and "8px" not in style.CELL_TEXT_CSS


def test_most_confused_by_hand():
    m = [[5, 2, 0, 0], [1, 6, 0, 3], [0, 0, 9, 0], [0, 0, 1, 4]]
    # mistakes, most frequent first: b→d 3, a→b 2, b→a 1, d→c 1
    assert labelled.most_confused(m, 2).tolist() == [1, 3]
    assert labelled.most_confused(m, 3).tolist() == [0, 1, 3]  # in class order, not by mistakes
    assert labelled.most_confused(m, 9).tolist() == [0, 1, 2, 3]
    assert labelled.most_confused([[1, 1], [1, 1]], 1).tolist() == [0]  # a tie goes to the first class
    # a spreads 4 single mistakes over b..e, d→e happens 3 times: the biggest cell is shown, both its classes
    spread = np.eye(5, dtype=int) * 10
    spread[0, 1:] = 1
    spread[3, 4] = 3
    assert labelled.most_confused(spread, 2).tolist() == [3, 4]
    assert labelled.most_confused(np.eye(4), 2).tolist() == [0, 1]  # no mistakes at all: the first classes


def test_confusion_with_200_classes_shows_the_20_most_confused_at_a_bounded_height():
    rng = np.random.default_rng(0)
    m = np.diag(rng.integers(20, 40, 200))
    m[7, 150], m[150, 7], m[42, 3] = 30, 5, 12  # a few classes confused far more than the rest
    m[rng.integers(0, 200, 40), rng.integers(0, 200, 40)] += 1
    classes = [f"class {i}" for i in range(200)]
    fig = labelled.confusion(m, classes, normalize=True)
    shown = list(fig.data[0].x)
    assert len(shown) == labelled.CONFUSION_UP_TO == 20 and list(fig.data[0].y) == shown
    assert {"class 3", "class 7", "class 42", "class 150"} <= set(shown)
    assert fig.layout.height <= 800 and "20 most confused of 200 classes" in fig.layout.title.text
    i, j = shown.index("class 7"), shown.index("class 150")
    assert fig.data[0].z[i][j] == pytest.approx(30 / m[7].sum())  # shares of the whole row, not of the shown part
    few = labelled.confusion(m[:3, :3], classes[:3])
    assert few.layout.title.text is None and few.layout.height == 120 + 50 * 3


def test_confusion_counts_and_normalized():
    m = [[8, 2], [1, 9]]
    counts = labelled.confusion(m, ["neg", "pos"])
    assert list(counts.data[0].text[0]) == ["8", "2"]
    norm = labelled.confusion(m, ["neg", "pos"], normalize=True)
    assert np.allclose(np.asarray(norm.data[0].z).sum(axis=1), 1.0)
    assert list(norm.data[0].text[1]) == ["10%", "90%"]


def test_scatter_has_a_trace_per_group_and_each_point_knows_its_index():
    fig = scatter.points(
        [0.1, 0.5, 0.9], [2.0, 1.0, 3.0], ["L1H1", "L1H2", "L2H1"], ["self", "broad", "self"], "x", "y"
    )
    traces = fig.to_dict()["data"]
    assert [t["name"] for t in traces] == ["self", "broad"]
    assert list(traces[0]["customdata"]) == [0, 2] and list(traces[0]["x"]) == [0.1, 0.9]
    assert list(traces[1]["text"]) == ["L1H2"] and traces[1]["mode"] == "markers+text"
    many = scatter.points(list(range(72)), list(range(72)), [f"h{i}" for i in range(72)], ["a"] * 72, "x", "y")
    assert many.to_dict()["data"][0]["mode"] == "markers"  # 72 names beside their points would be a blur


def test_each_head_has_its_own_band_of_the_colour_scale():
    fig = head_colours.one_colour_per_head(
        np.array([[0, 1], [1, 0]]), np.array([[0.9, 0.7], [0.6, 0.8]]), ["a", "b"], 2
    )
    z = np.array(fig.to_dict()["data"][0]["z"])
    assert np.allclose(z, [[0.45, 0.85], [0.8, 0.4]])  # (head + weight) / heads: head 2's cells in the upper half
    stops = head_colours.colorscale(2)
    assert stops[0] == [0.0, "#ffffff"] and stops[2][0] == 0.5 and stops[-1] == [1.0, head_colours.COLORS[1]]


def test_curves():
    hist = dict(
        steps=[1.0, 0.8, 0.7, 0.6],
        epochs=[dict(epoch=1, step=2, train_loss=0.9, val_loss=0.8, train_acc=0.5, val_acc=0.6)]
        + [dict(epoch=2, step=4, train_loss=0.65, val_loss=0.7, train_acc=0.7, val_acc=0.65)],
    )
    fig = line_charts.curves(hist)
    names = [t.name for t in fig.data]
    assert names == ["train loss (step)", "train loss", "val loss", "train acc", "val acc"]
    assert list(fig.data[0].x) == [0.5, 1.0, 1.5, 2.0]  # steps placed in epochs
    assert list(fig.data[4].y) == pytest.approx([0.6, 0.65])
    live = line_charts.curves({}, steps_per_epoch=2, max_epochs=5)  # the Train page's figure before any step
    assert all(len(t.x) == 0 for t in live.data) and live.layout.xaxis.range == (0, 5.2)
    line_charts.update_curves(live, hist, 2)  # a redraw: the same figure, new arrays
    for redrawn, fresh in zip(live.data, fig.data, strict=True):
        assert list(redrawn.x) == pytest.approx(list(fresh.x)) and list(redrawn.y) == pytest.approx(list(fresh.y))


def test_negative_bars_leave_room_for_their_text():
    """A short negative bar's text is written left of it, outside the bar: the axis reaches far enough left to
    show it, not cut at the plot's edge."""
    fig = bar_charts.bars(["L2H7", "L3H7"], [17.3, -1.5], "probability lost", text=["+17.3%", "-1.5% · logit -0.48"])
    low, high = fig.layout.xaxis.range
    assert low <= -1.5 - 0.35 * 18.8 and high >= 17.3
    assert bar_charts.bars(["a"], [2.0], "x", text=["+2"]).layout.xaxis.range is None  # no negative: autorange


def every_builder():
    """One figure from each plotly builder."""
    hist = dict(
        steps=[1.0, 0.8], epochs=[dict(epoch=1, step=2, train_loss=0.9, val_loss=0.8, train_acc=0.5, val_acc=0.6)]
    )
    seeds = [dict(heads=h, curve=[0.5, 0.6 + s / 10]) for h in (1, 4) for s in range(2)]
    return dict(
        bars=bar_charts.bars(["head 1", "head 2"], [0.1, -0.2], "accuracy lost"),
        bars_with_text=bar_charts.bars(["L1H1", "L1H2"], [3.0, -1.0], "probability lost", text=["+3%", "-1%"]),
        scatter=scatter.points(
            [0.1, 0.5, 0.9],
            [2.0, 1.0, 3.0],
            ["L1H1", "L1H2", "L2H1"],
            ["self", "broad", "self"],
            "entropy",
            "contribution",
        ),  # fmt: skip
        confusion=labelled.confusion([[3, 1], [0, 4]], ["neg", "pos"]),
        many_classes=labelled.confusion(np.eye(25, dtype=int) + 1, [f"c{i}" for i in range(25)]),
        matrix=labelled.matrix(np.eye(3), ["h1", "h2", "h3"]),
        curves=line_charts.curves(hist, 2, 6),
        seed_curves=line_charts.seed_curves(seeds),
        line=line_charts.line([8, 4, 2], [0.8, 0.7, 0.6], "heads kept", "accuracy", reverse_x=True),
        head_colours=head_colours.one_colour_per_head(
            np.array([[0, 1], [1, 0]]), np.array([[0.9, 0.7], [0.6, 0.8]]), ["a", "b"], 2
        ),
        histogram=histograms.overlaid({"raw": [0.1, -2.0, 3.0], "scaled": [0.0, 0.5, -0.5]}, "score"),
    )


@pytest.mark.parametrize("name", list(every_builder()))
def test_every_builder_makes_a_figure_plotly_accepts(name):
    """The builders skip plotly.py's validation (style.figure: it was 10 ms a figure); here every property they set
    goes through it: a misspelt or misplaced one raises."""
    import plotly.graph_objects as go

    spec = every_builder()[name].to_dict()
    checked = go.Figure(spec)  # validates every property; raises ValueError on one plotly does not know
    assert checked.to_dict()["data"][0]["type"] == spec["data"][0]["type"]
    assert spec["layout"]["template"]["layout"]["plot_bgcolor"] == "white"  # plotly_white's look

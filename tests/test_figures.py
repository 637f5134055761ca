"""Figure builders: the right traces, shared scales, and labels by position."""

import numpy as np

from attention import figures


def heatmaps(fig):
    return [t for t in fig.data if t.type == "heatmap"]


def test_grid_has_one_heatmap_per_panel_on_a_shared_scale():
    w = np.random.rand(9, 5, 5).astype(np.float32)
    fig = figures.attention_grid(w, ["a", "b", "a", "c", "<pad>"])
    hs = heatmaps(fig)
    assert len(hs) == 9 and {h.coloraxis for h in hs} == {"coloraxis"}
    assert fig.layout.coloraxis.cmin == 0 and fig.layout.coloraxis.cmax == 1
    assert list(hs[0].x) == ["0:a", "1:b", "2:a", "3:c", "4:<pad>"]  # repeated words stay apart
    assert np.allclose(np.asarray(hs[4].z), w[4])
    assert [a.text for a in fig.layout.annotations] == [f"head {h + 1}" for h in range(9)]
    assert hs[0].texttemplate == "%{z:.2f}"  # short sentence: numbers in the cells
    # panels do not overlap: each x domain ends before the next begins
    doms = sorted(fig.layout[f"xaxis{'' if i == 0 else i + 1}"].domain for i in range(4))
    assert all(a[1] < b[0] for a, b in zip(doms, doms[1:]))


def test_grid_for_long_sentences_drops_cell_numbers_and_ticks():
    fig = figures.attention_grid(np.zeros((2, 60, 60), np.float32), [f"w{i}" for i in range(60)])
    hs = heatmaps(fig)
    assert hs[0].texttemplate is None and fig.layout.xaxis.showticklabels is False


def test_grid_diverging_for_differences():
    fig = figures.attention_grid(np.zeros((1, 3, 3), np.float32), list("abc"), ["head 2"], diverging=True)
    assert fig.layout.coloraxis.cmin == -1 and fig.layout.coloraxis.colorbar.title.text == "change"


def test_confusion_counts_and_normalized():
    m = [[8, 2], [1, 9]]
    counts = figures.confusion(m, ["neg", "pos"])
    assert list(counts.data[0].text[0]) == ["8", "2"]
    norm = figures.confusion(m, ["neg", "pos"], normalize=True)
    assert np.allclose(np.asarray(norm.data[0].z).sum(axis=1), 1.0)
    assert list(norm.data[0].text[1]) == ["10%", "90%"]


def test_probabilities_and_curves():
    fig = figures.probabilities(["a", "b", "c"], [0.2, 0.7, 0.1])
    assert list(fig.data[0].y) == ["a", "b", "c"] and fig.data[0].marker.color[1] == "#1f77b4"
    hist = dict(
        steps=[1.0, 0.8, 0.7, 0.6],
        epochs=[dict(epoch=1, step=2, train_loss=0.9, val_loss=0.8, train_acc=0.5, val_acc=0.6)]
        + [dict(epoch=2, step=4, train_loss=0.65, val_loss=0.7, train_acc=0.7, val_acc=0.65)],
    )
    fig = figures.curves(hist)
    names = [t.name for t in fig.data]
    assert names == ["train loss (step)", "train loss", "val loss", "train acc", "val acc"]
    assert list(fig.data[0].x) == [0.5, 1.0, 1.5, 2.0]  # steps placed in epochs

"""The canvas view's messages: what is packed reads back within the stated precision, masks and labels intact."""

import struct

import numpy as np
import pytest

from attention.viz.packed import MASKED, STEPS, pack, thumbnails, unpack


def softmax_rows(rng, P, T):
    x = rng.normal(size=(P, T, T)) * 3
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("T", [1, 7, 130])
def test_weights_read_back_within_half_a_step(T):
    w = softmax_rows(np.random.default_rng(T), 5, T)
    rows = [f"{i}:t" for i in range(T)]
    header, back = unpack(pack(w, rows, [f"head {p}" for p in range(5)], wrap=4, exact=False))
    back = np.stack(back)
    assert back.shape == w.shape and header["shapes"] == [[T, T]] * 5 and header["col_of"] == [0] * 5
    assert np.abs(back - w).max() <= 0.5 / STEPS + 1e-7  # 7.6e-6: hover's 4 decimals are the weight's own
    assert header["ticks"] is None and header["ticks_up_to"] == 48  # the page labels axes of 48 or fewer


def test_a_two_byte_cell_by_hand():
    """0.25 on 0..1 is code round(0.25 * 65534) = 16384, stored little-endian after the header and its padding."""
    blob = pack(np.array([[[0.25]]]), ["a"], ["one"], exact=False)
    (n,) = struct.unpack_from("<I", blob)
    start = 4 + n + -(4 + n) % 4
    assert start % 4 == 0 and len(blob) == start + 2
    assert struct.unpack_from("<H", blob, start)[0] == 16384


def test_differences_and_values_keep_their_sign_and_range():
    d = np.array([[[-1.0, -0.3], [0.0, 0.7]]])
    header, back = unpack(pack(d, ["a", "b"], ["change"], scale="change", exact=False))
    assert (header["low"], header["high"]) == (-1.0, 1.0)
    assert np.abs(back[0] - d[0]).max() <= 1 / STEPS
    v = np.array([[[-4.0, 2.0], [1.0, 3.5]]])
    header, back = unpack(pack(v, ["a", "b"], ["scores"], scale="value", exact=False))
    assert (header["low"], header["high"]) == (-4.0, 4.0)  # symmetric around 0 up to the largest |value|
    assert np.abs(back[0] - v[0]).max() <= 8 / STEPS and header["chars"] == len("-4.00")


def test_masked_cells_are_marked_not_filled():
    w = np.full((1, 2, 2), 0.5, dtype=np.float32)
    mask = np.array([[False, True], [False, False]])
    blob = pack(w, ["a", "b"], ["one"], masked=[mask], exact=False)
    _, back = unpack(blob)
    assert np.isnan(back[0][0, 1]) and not np.isnan(back[0][1, 1])
    assert struct.unpack_from("<4H", blob, len(blob) - 8)[1] == MASKED
    _, back = unpack(pack(w, ["a", "b"], ["one"], masked=[mask]))  # small: float32, NaN where masked
    assert np.isnan(back[0][0, 1]) and back[0][1, 1] == np.float32(0.5)


def test_labels_are_sent_as_typed_and_counted_as_panels():
    rows = ["0:<b>x</b>", "1:[x](http://e.com)", "2:é😀"]
    header, _ = unpack(pack(np.zeros((2, 3, 3)), rows, ["h1", "h2"], wrap=4, name="attention-x", click=True))
    assert header["rows"] == rows and header["cols"] == [rows]  # drawn as canvas text by the page, never as HTML
    assert header["wrap"] == 2 and header["name"] == "attention-x" and header["click"] is True


def test_small_messages_are_exact_and_large_ones_two_bytes_a_weight():
    """Hover and the tables beside it show the same 4 decimals up to EXACT_UP_TO values (MiniLM's 13 panels at 128
    tokens); at 256 tokens the message is 1.7 MB of 16-bit codes, against 4.9 MB of plotly JSON before."""
    w = np.random.default_rng(0).random((13, 128, 128), dtype=np.float32)
    header, back = unpack(pack(w, [str(i) for i in range(128)], ["h"] * 13))
    assert header["dtype"] == "f32" and (np.stack(back) == w).all()
    blob = pack(np.zeros((13, 256, 256), dtype=np.float32), [str(i) for i in range(256)], ["h"] * 13)
    assert unpack(blob)[0]["dtype"] == "u16" and 13 * 256 * 256 * 2 < len(blob) < 13 * 256 * 256 * 2 + 5000


def test_panels_of_different_widths_keep_their_own_columns_and_a_value_scale_ignores_masked_cells():
    """Inside a head's last stage: the weights (3 x 3, one masked cell) beside their row sums (3 x 1)."""
    w = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]])
    mask = np.triu(np.ones((3, 3), dtype=bool), 1)
    rows = ["0:a", "1:b", "2:c"]
    header, back = unpack(
        pack([w, w.sum(1, keepdims=True)], rows, ["weights", "row sums"], [rows, ["Σ"]], [mask, None])
    )
    assert header["shapes"] == [[3, 3], [3, 1]] and header["cols"] == [rows, ["Σ"]] and header["col_of"] == [0, 1]
    assert np.isnan(back[0][0, 2]) and np.allclose(back[1], 1, atol=1e-4) and header["wrap"] is None
    header, _ = unpack(pack([np.where(mask, 9.0, w)], rows, ["scores"], masked=[mask], scale="value"))
    assert header["high"] == 1.0  # the masked 9s are not the scale's end


def test_shapes_that_do_not_match_their_labels_are_refused():
    with pytest.raises(ValueError):
        pack(np.zeros((1, 2, 3)), ["a", "b"], ["one"])
    with pytest.raises(ValueError):
        pack(np.zeros((2, 2, 2)), ["a", "b"], ["only one title"])


def test_thumbnails_average_blocks_of_a_long_sentences_weights():
    w = np.random.default_rng(0).random((2, 100, 100)).astype(np.float32)
    t = thumbnails(w, cells=48)  # k = 3: 34 x 34 blocks, the last one a single row and column
    assert t.shape == (2, 34, 34)
    assert np.isclose(t[1, 0, 0], w[1, :3, :3].mean()) and np.isclose(t[0, 33, 33], w[0, 99, 99])
    assert np.isclose(t[0, 5, 33], w[0, 15:18, 99].mean())
    assert thumbnails(w[:, :40, :40]).shape == (2, 40, 40)  # short: as is

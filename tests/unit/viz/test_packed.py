"""The canvas view's messages: what is packed reads back within the stated precision, masks and labels intact."""

import struct

import numpy as np
import pytest

from attention.viz.packed import MASKED, STEPS, pack, unpack


def softmax_rows(rng, P, T):
    x = rng.normal(size=(P, T, T)) * 3
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("T", [1, 7, 130])
def test_weights_read_back_within_half_a_step(T):
    w = softmax_rows(np.random.default_rng(T), 5, T)
    rows = [f"{i}:t" for i in range(T)]
    header, back = unpack(pack(w, rows, [f"head {p}" for p in range(5)]))
    assert back.shape == w.shape and header["shape"] == [5, T, T]
    assert np.abs(back - w).max() <= 0.5 / STEPS + 1e-7  # 7.6e-6: hover's 4 decimals are the weight's own
    assert header["ticks"] == (T <= 48)


def test_a_two_byte_cell_by_hand():
    """0.25 on 0..1 is code round(0.25 * 65534) = 16384, stored little-endian after the header and its padding."""
    blob = pack(np.array([[[0.25]]]), ["a"], ["one"])
    (n,) = struct.unpack_from("<I", blob)
    start = 4 + n + (4 + n) % 2
    assert start % 2 == 0 and len(blob) == start + 2
    assert struct.unpack_from("<H", blob, start)[0] == 16384


def test_differences_and_values_keep_their_sign_and_range():
    d = np.array([[[-1.0, -0.3], [0.0, 0.7]]])
    header, back = unpack(pack(d, ["a", "b"], ["change"], scale="change"))
    assert (header["low"], header["high"]) == (-1.0, 1.0)
    assert np.abs(back - d).max() <= 1 / STEPS
    v = np.array([[[-4.0, 2.0], [1.0, 3.5]]])
    header, back = unpack(pack(v, ["a", "b"], ["scores"], scale="value"))
    assert (header["low"], header["high"]) == (-4.0, 4.0)  # symmetric around 0 up to the largest |value|
    assert np.abs(back - v).max() <= 8 / STEPS


def test_masked_cells_are_marked_not_filled():
    w = np.full((1, 2, 2), 0.5, dtype=np.float32)
    mask = np.array([[[False, True], [False, False]]])
    blob = pack(w, ["a", "b"], ["one"], masked=mask)
    _, back = unpack(blob)
    assert np.isnan(back[0, 0, 1]) and not np.isnan(back[0, 1, 1])
    assert struct.unpack_from("<4H", blob, len(blob) - 8)[1] == MASKED


def test_labels_are_sent_as_typed_and_counted_as_panels():
    rows = ["0:<b>x</b>", "1:[x](http://e.com)", "2:é😀"]
    header, _ = unpack(pack(np.zeros((2, 3, 3)), rows, ["h1", "h2"], wrap=4, name="attention-x", click=True))
    assert header["rows"] == rows and header["cols"] == rows  # drawn as canvas text by the page, never as HTML
    assert header["wrap"] == 2 and header["name"] == "attention-x" and header["click"] is True


def test_a_message_is_two_bytes_a_weight():
    """MiniLM's 13 panels at 256 tokens: 1.7 MB, against 4.9 MB of plotly JSON before."""
    blob = pack(np.zeros((13, 256, 256), dtype=np.float32), [str(i) for i in range(256)], ["h"] * 13)
    assert 13 * 256 * 256 * 2 < len(blob) < 13 * 256 * 256 * 2 + 5000


def test_shapes_that_do_not_match_their_labels_are_refused():
    with pytest.raises(ValueError):
        pack(np.zeros((1, 2, 3)), ["a", "b"], ["one"])

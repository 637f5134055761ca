"""Attention grids as one compact binary message, drawn by the page on a canvas (ui/heatmaps.js).

A plotly figure of MiniLM's 13 panels at 256 tokens was 4.9 MB of JSON: the server wrote it, the browser parsed it
and plotly laid it out, about 1.3 s of Explore's 2 s. Packed, the same panels are 1.7 MB of 16-bit integers that
the page draws one pixel per weight and scales up.

Layout of a message: a little-endian uint32 n; n bytes of UTF-8 JSON (the header); zero bytes up to an even
offset; then every panel's values, row-major, panel after panel, as little-endian uint16. A value v in
[low, high] is stored as round((v - low) / (high - low) * STEPS), within (high - low) / 2 / STEPS of v (1e-5 for
weights); MASKED marks a masked cell (drawn blank; hover says "masked").
"""

import json
import struct

import numpy as np

from attention.viz.style import DIVERGING, SCALE, TICKS_UP_TO

STEPS = 65534
MASKED = 65535
RANGES = {"weight": (0.0, 1.0), "change": (-1.0, 1.0)}  # "value": symmetric around 0 up to the largest |value|
TITLES = {"weight": "weight", "change": "change", "value": "value"}
THUMB_CELLS = 48  # a thumbnail is about 60 px across: more cells than this are averaged in blocks


def pack(
    mats,
    rows,
    titles,
    *,
    cols=None,
    masked=None,
    scale="weight",
    wrap=4,
    name="attention",
    click=False,
    hover="cell",
    ticks=None,
):
    """Panels of one shape (P, R, C) as a message for the canvas view.

    rows, cols: axis labels (cols defaults to rows); tick labels are drawn up to TICKS_UP_TO of them, hover always
    names them. titles: one per panel. masked: None or a (P, R, C) bool array, True = masked out. scale: "weight"
    (0..1, white to blue), "change" (-1..1, red = lost, blue = gained) or "value". wrap: panels per row.
    name: the PNG's file name. click: whether a click on a panel is reported (ui.heatmaps). hover: "cell" (the
    panel, query, key and weight) or "title" (the panel's title only: thumbnails whose cells average blocks).
    ticks: whether to write the labels along the axes; None = when there are TICKS_UP_TO or fewer.
    """
    z = np.asarray(mats, dtype=np.float32)  # (P, R, C)
    cols = rows if cols is None else cols
    if not (z.ndim == 3 and z.shape[1:] == (len(rows), len(cols)) and len(titles) == len(z)):
        raise ValueError(f"panels {z.shape} do not match {len(titles)} titles, {len(rows)} x {len(cols)} labels")
    if scale == "value":
        top = float(np.abs(z if masked is None else z[~masked]).max(initial=0)) or 1.0
        low, high = -top, top
    else:
        low, high = RANGES[scale]
    q = np.rint((np.clip(z, low, high) - low) / (high - low) * STEPS).astype("<u2")
    if masked is not None:
        q[np.asarray(masked, dtype=bool)] = MASKED
    header = dict(
        titles=[str(t) for t in titles],
        rows=[str(r) for r in rows],
        cols=[str(c) for c in cols],
        shape=list(z.shape),
        low=low,
        high=high,
        steps=STEPS,
        masked=MASKED,
        colors=SCALE if scale == "weight" else DIVERGING,
        colorbar=TITLES[scale],
        ticks=len(rows) <= TICKS_UP_TO and len(cols) <= TICKS_UP_TO if ticks is None else ticks,
        wrap=max(1, min(wrap, len(z))),
        name=name,
        click=click,
        hover=hover,
    )
    head = json.dumps(header, ensure_ascii=False).encode()
    pad = b"\0" * ((4 + len(head)) % 2)
    return struct.pack("<I", len(head)) + head + pad + q.tobytes()


def unpack(blob):
    """(header, values) from a message: values (P, R, C) float32, NaN where masked (tests read messages back)."""
    (n,) = struct.unpack_from("<I", blob)
    header = json.loads(blob[4 : 4 + n].decode())
    start = 4 + n + (4 + n) % 2
    q = np.frombuffer(blob, dtype="<u2", offset=start).reshape(header["shape"])
    values = header["low"] + q.astype(np.float32) / header["steps"] * (header["high"] - header["low"])
    return header, np.where(q == header["masked"], np.nan, values).astype(np.float32)


def thumbnails(w, cells=THUMB_CELLS):
    """(H, T, T) -> (H, n, n), n <= cells: the mean of each k x k block (k = ceil(T / cells)); as is if T <= cells."""
    T = w.shape[-1]
    k = -(-T // cells)
    if k == 1:
        return np.asarray(w, dtype=np.float32)
    n = -(-T // k)
    padded = np.full((w.shape[0], n * k, n * k), np.nan, dtype=np.float32)
    padded[:, :T, :T] = w
    return np.nanmean(padded.reshape(w.shape[0], n, k, n, k), axis=(2, 4)).astype(np.float32)

"""Attention grids as one compact binary message, drawn by the page on a canvas (ui/heatmaps.js).

A plotly figure of MiniLM's 13 panels at 256 tokens was 4.9 MB of JSON: the server wrote it, the browser parsed it
and plotly laid it out, about 1.3 s of Explore's 2 s. Packed, the same panels are 1.7 MB of 16-bit integers that
the page draws one pixel per weight and scales up.

Layout of a message: a little-endian uint32 n; n bytes of UTF-8 JSON (the header); zero bytes up to a multiple
of 4; then every panel's values, row-major, panel after panel, as the header's dtype:
- "f32": little-endian float32, NaN where masked: the values exactly as computed (float32), so hover shows them
  to 4 decimals as the tables beside them do. Messages of up to EXACT_UP_TO values are sent so.
- "u16": little-endian uint16 codes for larger ones (MiniLM's 13 panels from 256 tokens): v in [low, high] is
  stored as round((v - low) / (high - low) * STEPS), within (high - low) / 2 / STEPS of v (8e-6 for weights),
  and hover marks the value as approximate; MASKED marks a masked cell.
Masked cells are drawn blank and hatched, and hover says "masked", never a value.
"""

import json
import struct

import numpy as np

from attention.viz.style import DIVERGING, SCALE, TICKS_UP_TO

STEPS = 65534
MASKED = 65535
EXACT_UP_TO = 1 << 18  # values sent as float32 up to this many (1 MB; MiniLM's grid to 128 tokens); then 16-bit
RANGES = {"weight": (0.0, 1.0), "change": (-1.0, 1.0)}  # "value": symmetric around 0 up to the largest |value|
THUMB_CELLS = 48  # a thumbnail is about 60 px across: more cells than this are averaged in blocks


def pack(
    mats,
    rows,
    titles,
    cols=None,
    masked=None,
    scale="weight",
    wrap=None,
    height=None,
    *,
    name="attention",
    click=False,
    hover="cell",
    ticks=None,
    exact=None,
):
    """Matrices sharing their rows as one message for the canvas view, on one colour scale.

    mats: (R, C_p) arrays; rows: their R labels; cols: None (every panel's columns are `rows`: token-by-token
    attention), one list of labels for every panel, or one list per panel. titles: one per panel ("<br>" breaks
    a line). masked: None, or one (R, C_p) bool array or None per panel, True = masked out (drawn blank and
    hatched; hover says "masked", never the value). scale: "weight" (0..1, white to blue), "change" (-1..1, red =
    lost, blue = gained) or "value" (symmetric around 0 up to the largest unmasked |value|). wrap: None = one
    row of panels as wide as their column counts; k = square panels, k to a row. height: the row's height in px
    (None: from the row count). Tick labels are drawn for up to TICKS_UP_TO rows or columns (ticks: force them
    on or off); values are written in cells where they fit. name: the PNG's file name. click: whether a click on
    a panel is reported (ui.heatmaps). hover: "cell" (panel, row, column, value) or "title" (thumbnails).
    exact: float32 values (True) or 16-bit codes (False); None = float32 up to EXACT_UP_TO values.
    """
    mats = [np.asarray(m, dtype=np.float32).reshape(len(rows), -1) for m in mats]
    per_panel = cols is not None and len(cols) == len(mats) and all(isinstance(c, (list, tuple)) for c in cols)
    cols = cols if per_panel else [rows if cols is None else cols] * len(mats)
    masked = masked if masked is not None else [None] * len(mats)
    if len(titles) != len(mats) or any(m.shape[1] != len(c) for m, c in zip(mats, cols)):
        shapes = [m.shape for m in mats]
        raise ValueError(f"panels {shapes} do not match {len(titles)} titles and their labels")
    low, high = _range(mats, masked, scale)
    exact = sum(m.size for m in mats) <= EXACT_UP_TO if exact is None else exact
    encode = _floats if exact else _codes
    data = [encode(m, k, low, high) for m, k in zip(mats, masked)]
    labels = [list(map(str, c)) for c in cols]
    distinct = list({tuple(c): None for c in labels})  # panels that share their columns share one list
    top = max(abs(low), abs(high))
    header = dict(
        titles=[str(t) for t in titles],
        rows=[str(r) for r in rows],
        cols=[list(c) for c in distinct],
        col_of=[distinct.index(tuple(c)) for c in labels],
        shapes=[list(m.shape) for m in mats],
        low=low,
        high=high,
        dtype="f32" if exact else "u16",
        steps=STEPS,
        masked=MASKED,
        chars=len(f"{top:.2f}") + (low < 0),  # the widest number a cell may show, "-0.12": 5
        colors=SCALE if scale == "weight" else DIVERGING,
        colorbar=scale,  # the colour bar's title
        ticks=ticks,  # None: rows labelled if there are TICKS_UP_TO or fewer, and so each panel's columns
        ticks_up_to=TICKS_UP_TO,
        wrap=max(1, min(wrap, len(mats))) if wrap else None,
        height=height,
        name=name,
        click=click,
        hover=hover,
    )
    head = json.dumps(header, ensure_ascii=False).encode()
    pad = b"\0" * (-(4 + len(head)) % 4)
    return struct.pack("<I", len(head)) + head + pad + b"".join(d.tobytes() for d in data)


def _range(mats, masked, scale):
    if scale != "value":
        return RANGES[scale]
    shown = [m if k is None else m[~np.asarray(k, dtype=bool)] for m, k in zip(mats, masked)]
    top = max(float(np.abs(m).max(initial=0)) for m in shown) or 1.0
    return -top, top


def _floats(m, mask, low, high):
    """(R, C) values as float32; NaN where mask is True."""
    v = m.astype("<f4")
    if mask is not None:
        v = np.where(np.asarray(mask, dtype=bool), np.nan, v).astype("<f4")
    return v


def _codes(m, mask, low, high):
    """(R, C) values as uint16 codes on [low, high]; MASKED where mask is True."""
    q = np.rint((np.clip(m, low, high) - low) / (high - low) * STEPS).astype("<u2")
    if mask is not None:
        q[np.asarray(mask, dtype=bool)] = MASKED
    return q


def unpack(blob):
    """(header, values) from a message: one (R, C_p) float32 array per panel, NaN where masked (tests read
    messages back)."""
    (n,) = struct.unpack_from("<I", blob)
    header = json.loads(blob[4 : 4 + n].decode())
    start, values = 4 + n + -(4 + n) % 4, []
    for R, C in header["shapes"]:
        if header["dtype"] == "f32":
            values.append(np.frombuffer(blob, dtype="<f4", count=R * C, offset=start).reshape(R, C).copy())
            start += 4 * R * C
            continue
        q = np.frombuffer(blob, dtype="<u2", count=R * C, offset=start).reshape(R, C)
        v = header["low"] + q.astype(np.float32) / header["steps"] * (header["high"] - header["low"])
        values.append(np.where(q == header["masked"], np.nan, v).astype(np.float32))
        start += 2 * R * C
    return header, values


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

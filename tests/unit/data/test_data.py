import re
import time
from collections import Counter

import pytest

from attention.data import registry
from attention.data.registry import DATASETS, load_dataset
from attention.data.types import DataError, split_stratified
from attention.data.upload import dataset_from_csv

TWEETS_TOTAL = 26_198  # measured; see _tweets_table's docstring
BBC_TOTAL = 2_096


def all_texts(ds):
    return ds.train.texts + ds.val.texts + ds.test.texts


def fractions(labels, n_classes):
    counts = Counter(labels)
    return [counts[c] / len(labels) for c in range(n_classes)]


@pytest.fixture(scope="module")
def tweets():
    return load_dataset("tweets")


@pytest.fixture(scope="module")
def bbc():
    return load_dataset("bbc")


def test_registry():
    assert {"tweets", "bbc", "synthetic"} <= set(DATASETS)
    with pytest.raises(DataError, match="Unknown dataset 'nope'.*tweets"):
        load_dataset("nope")


def test_tweets_sizes_and_classes(tweets):
    assert tweets.name == "tweets" and tweets.classes == ["negative", "neutral", "positive"]
    n = len(all_texts(tweets))
    assert abs(n - TWEETS_TOTAL) <= 0.03 * TWEETS_TOTAL
    assert len(tweets.train.texts) == pytest.approx(0.8 * n, abs=2)
    assert len(tweets.val.texts) == pytest.approx(0.1 * n, abs=2)
    assert len(tweets.test.texts) == pytest.approx(0.1 * n, abs=2)
    for split in (tweets.train, tweets.val, tweets.test):
        assert len(split.texts) == len(split.labels) and set(split.labels) == {0, 1, 2}
        assert all(type(y) is int for y in split.labels)  # plain ints, so they serialise to JSON
    assert "CrowdFlower" in tweets.description


def test_tweets_are_cleaned(tweets):
    texts = all_texts(tweets)
    assert all(t and t == t.strip() and t == t.lower() and t.isascii() for t in texts)
    assert not any("deflategate" in t for t in texts)
    assert not any(re.search(r"https?:|\bwww\.|#|&amp;|&quot;|^rt @", t) for t in texts)
    assert not any(re.search(r"@(?!user\b)\w", t) for t in texts)  # every mention is anonymised
    assert len(set(texts)) == len(texts)


def test_tweets_splits_are_disjoint_and_stratified(tweets):
    train, val, test = set(tweets.train.texts), set(tweets.val.texts), set(tweets.test.texts)
    assert not train & test and not train & val and not val & test
    overall = fractions(tweets.train.labels + tweets.val.labels + tweets.test.labels, 3)
    assert overall == pytest.approx([0.410, 0.393, 0.196], abs=0.02)
    for split in (tweets.train, tweets.val, tweets.test):
        assert fractions(split.labels, 3) == pytest.approx(overall, abs=0.01)


def test_tweets_load_fast():
    registry._tweets_table.cache_clear()
    start = time.perf_counter()
    load_dataset("tweets")
    assert time.perf_counter() - start < 3.0  # typically ~0.6 s on 2 CPU cores
    start = time.perf_counter()
    load_dataset("tweets", seed=1)
    assert time.perf_counter() - start < 0.5  # the file is read and cleaned once


def test_same_seed_same_split_other_seed_differs(tweets):
    again = load_dataset("tweets", seed=0)
    assert again.train == tweets.train and again.test == tweets.test
    assert load_dataset("tweets", seed=1).train.texts != tweets.train.texts
    again.train.texts.clear()  # callers get their own lists, never the cache's
    assert load_dataset("tweets").train.texts == tweets.train.texts


def test_bbc(bbc):
    assert bbc.classes == ["business", "entertainment", "politics", "sports", "tech"]
    texts = all_texts(bbc)
    assert abs(len(texts) - BBC_TOTAL) <= 0.03 * BBC_TOTAL
    assert len(set(texts)) == len(texts) and all(t.strip() for t in texts)
    assert "\n" not in "".join(texts)  # headline only
    assert not set(bbc.train.texts) & set(bbc.test.texts)
    assert set(bbc.test.labels) == set(range(5))
    assert load_dataset("bbc").train == bbc.train


def test_split_stratified_keeps_proportions():
    labels = [0] * 80 + [1] * 20
    train, val, test = split_stratified([f"t{i}" for i in range(100)], labels, seed=3)
    assert (len(train.texts), len(val.texts), len(test.texts)) == (80, 10, 10)
    assert Counter(test.labels) == {0: 8, 1: 2}
    assert split_stratified([f"t{i}" for i in range(100)], labels, seed=3)[0] == train


# --- CSV uploads ---


def csv_bytes(rows, header="text,label"):
    return (header + "\n" + "".join(f"{r}\n" for r in rows)).encode()


GOOD = csv_bytes(f"text number {i},{'pos' if i % 2 else 'neg'}" for i in range(20))


@pytest.mark.parametrize(
    "upload, message",
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf \n", "empty"),
        ("text,label\ncaf\xe9,pos\n".encode("latin-1"), "not UTF-8.*offset 14.*Re-save it as UTF-8"),
        (b'text,label\n"hello"world,pos\n', "could not be read as CSV"),
        (b'text,label\n"never closed,pos\n', "could not be read as CSV"),
        (b"text,lbl\na,b\n", r"Missing column 'label'.*found: 'text', 'lbl'"),
        (b"body,tag\na,b\n", r"Missing columns 'text' and 'label'"),
        (b"text,Text,label\na,b,c\n", "Duplicate column name: 'text'"),
        (b"text,label\nhello, world,pos\n", "Line 2 has 3 fields but the header has 2"),
        (b"text,label\n", "no data rows"),
        (b"text,label\n,pos\n  ,neg\nhi,\n", "No usable rows"),
        (csv_bytes(f"t{i},same" for i in range(12)), "Only one label \\('same'\\)"),
        (csv_bytes(["a,x", "b,y", "c,x", "d,y"]), "Only 4 usable rows; at least 10"),
        (csv_bytes([f"t{i},x" for i in range(12)] + ["lonely,y"]), "at least 2 examples.*'y'"),
    ],
)
def test_csv_errors(upload, message):
    with pytest.raises(DataError, match=message):
        dataset_from_csv(upload)


def test_csv_too_large():
    with pytest.raises(DataError, match="The file is 101 bytes; the limit is 100 bytes"):
        dataset_from_csv(b"x" * 101, max_bytes=100)
    assert dataset_from_csv(GOOD, max_bytes=len(GOOD)).classes == ["neg", "pos"]


def test_csv_round_trip():
    rows = [f'"Text, with comma {i}",<b>{"Good" if i % 3 == 0 else "Bad"}</b>,x' for i in range(30)]
    rows += ['"Text, with comma 0",<b>Good</b>,x', ",<b>Good</b>,x", "   ,<b>Bad</b>,x"]  # duplicate, empty
    upload = b"\xef\xbb\xbf" + csv_bytes(rows, header=" TEXT ,Label,extra")  # BOM, odd header
    ds = dataset_from_csv(upload, name="mine", seed=1)
    assert ds.name == "mine"
    assert ds.classes == ["<b>Bad</b>", "<b>Good</b>"]  # labels stay plain strings, sorted
    pairs = set(zip(all_texts(ds), ds.train.labels + ds.val.labels + ds.test.labels, strict=True))
    assert pairs == {(f"Text, with comma {i}", int(i % 3 == 0)) for i in range(30)}  # raw case kept
    assert "30 rows" in ds.description and "3 empty or duplicate rows dropped" in ds.description
    assert dataset_from_csv(upload, name="mine", seed=1) == ds


def test_csv_tiny_classes_still_split():
    ds = dataset_from_csv(csv_bytes(f"t{i},c{i % 5}" for i in range(10)))
    assert len(all_texts(ds)) == 10 and len(ds.classes) == 5  # too small to stratify: plain shuffle


def test_csv_accepts_crlf_and_multiline_quotes():
    upload = GOOD.replace(b"\n", b"\r\n") + b'"two\nlines",pos\r\n'
    ds = dataset_from_csv(upload)
    assert "two\nlines" in all_texts(ds) and len(all_texts(ds)) == 21

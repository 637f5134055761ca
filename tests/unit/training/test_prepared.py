"""The prepared-data cache: identical to preparing afresh, read back on a hit, rebuilt when broken, built-ins only."""

import json

import pytest
import torch

from attention.data.registry import load_dataset
from attention.data.types import DataError, Split, TextDataset
from attention.training import prepared as P
from attention.training.loop import TrainConfig, prepare

CFG = TrainConfig(seed=3, max_len=10, min_freq=2)  # max_len 10 truncates some synthetic texts (8-14 words)


@pytest.fixture(scope="module")
def reference():
    dataset = load_dataset("synthetic", seed=CFG.seed)
    return dataset, prepare(dataset, CFG)


def assert_same(got, want):
    (d1, p1), (d2, p2) = got, want
    assert (d1.name, d1.classes, d1.description) == (d2.name, d2.classes, d2.description)
    assert p1.tokenizer.itos == p2.tokenizer.itos and p1.classes == p2.classes and p1.texts == p2.texts
    for s in P.SPLITS:
        a, b = getattr(p1, s), getattr(p2, s)
        assert len(a.ids) == len(b.ids) and all(torch.equal(x, y) for x, y in zip(a.ids, b.ids))
        assert {x.dtype for x in a.ids} == {torch.long}
        assert a.labels.dtype == b.labels.dtype and torch.equal(a.labels, b.labels)
        assert a.truncated == b.truncated
        assert getattr(d1, s) == getattr(d2, s)


def entries(cache):
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def forbid_loading(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(P, "load_dataset", fail)
    monkeypatch.setattr(P, "prepare", fail)


def test_miss_then_hit_equal_preparing_afresh(tmp_path, reference, monkeypatch):
    assert reference[1].train.truncated > 0  # so the count's round trip is tested
    assert_same(P.load_prepared("synthetic", CFG, tmp_path), reference)
    (entry,) = entries(tmp_path)  # one whole entry, no temp folders left
    files = {f: f.stat().st_mtime_ns for f in (tmp_path / entry).iterdir()}
    forbid_loading(monkeypatch)
    assert_same(P.load_prepared("synthetic", CFG, tmp_path), reference)
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / entry).iterdir()} == files


def test_real_default_dataset(tmp_path):
    cfg = TrainConfig()
    want = P.load_prepared("tweets", cfg, tmp_path / "none", dataset=load_dataset("tweets", seed=cfg.seed))
    assert not (tmp_path / "none").exists()  # a dataset given is never cached
    assert_same(P.load_prepared("tweets", cfg, tmp_path), want)
    assert_same(P.load_prepared("tweets", cfg, tmp_path), want)


@pytest.mark.parametrize("field", ["seed", "max_len", "min_freq"])
def test_each_setting_that_changes_preparation_has_its_own_key(field):
    other = TrainConfig(**{**CFG.__dict__, field: getattr(CFG, field) + 1})
    assert P.entry_name(P.cache_key("synthetic", other)) != P.entry_name(P.cache_key("synthetic", CFG))
    same = TrainConfig(**{**CFG.__dict__, "lr": 0.5, "epochs": 1})  # training-only settings share the entry
    assert P.entry_name(P.cache_key("synthetic", same)) == P.entry_name(P.cache_key("synthetic", CFG))


def test_version_is_in_the_key(monkeypatch):
    before = P.entry_name(P.cache_key("synthetic", CFG))
    monkeypatch.setattr(P, "VERSION", P.VERSION + 1)
    assert P.entry_name(P.cache_key("synthetic", CFG)) != before


@pytest.mark.parametrize("change", [dict(seed=4), dict(min_freq=1)])
def test_other_seed_or_min_freq_gets_another_entry(tmp_path, reference, change):
    P.load_prepared("synthetic", CFG, tmp_path)
    other = TrainConfig(**{**CFG.__dict__, **change})
    got = P.load_prepared("synthetic", other, tmp_path)
    assert len(entries(tmp_path)) == 2
    assert_same(got, (d := load_dataset("synthetic", seed=other.seed), prepare(d, other)))
    assert_same(P.load_prepared("synthetic", CFG, tmp_path), reference)  # the first entry is intact


def _truncate(entry):
    f = entry / "ids.safetensors"
    f.write_bytes(f.read_bytes()[:100])


def _flip_an_id(entry):  # valid file, but an id past the vocabulary: would crash the embedding later
    from safetensors.torch import load_file, save_file

    t = load_file(entry / "ids.safetensors")
    t["val.ids"][0] = 10**6
    save_file(t, entry / "ids.safetensors")


def _edit_data(entry, **changes):
    meta = json.loads((entry / "data.json").read_text())
    (entry / "data.json").write_text(json.dumps({**meta, **changes}))


def _empty(entry):
    for f in entry.iterdir():
        f.unlink()
    return entry


CORRUPTIONS = {
    "ids truncated": _truncate,
    "id out of range": _flip_an_id,
    "ids missing": lambda e: (e / "ids.safetensors").unlink(),
    "vocab not json": lambda e: (e / "vocab.json").write_text("[<pad>"),
    "vocab invalid": lambda e: (e / "vocab.json").write_text('["a", "b"]'),
    "data not json": lambda e: (e / "data.json").write_bytes(b"\xff\x00"),
    "data a list": lambda e: (e / "data.json").write_text("[]"),
    "other key": lambda e: _edit_data(e, key={"dataset": "synthetic"}),
    "texts short": lambda e: _edit_data(e, texts={"train": [], "val": [], "test": []}),
    "entry is a file": lambda e: _empty(e).rmdir() or e.write_text("x"),
    "entry empty": lambda e: _empty(e),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_broken_entry_is_rebuilt_and_replaced(tmp_path, reference, monkeypatch, corrupt):
    P.load_prepared("synthetic", CFG, tmp_path)
    (entry,) = entries(tmp_path)
    corrupt(tmp_path / entry)
    assert_same(P.load_prepared("synthetic", CFG, tmp_path), reference)
    assert entries(tmp_path) == [entry]  # replaced in place, nothing set aside left behind
    assert json.loads((tmp_path / entry / "data.json").read_text())["key"] == P.cache_key("synthetic", CFG)
    forbid_loading(monkeypatch)
    assert_same(P.load_prepared("synthetic", CFG, tmp_path), reference)


def test_a_good_entry_already_there_is_kept(tmp_path, reference):
    """Two processes preparing one key: the second to finish leaves the first's entry as it is."""
    P.load_prepared("synthetic", CFG, tmp_path)
    (entry,) = entries(tmp_path)
    inode = (tmp_path / entry / "data.json").stat().st_ino
    P._write(tmp_path / entry, P.cache_key("synthetic", CFG), *reference)
    assert entries(tmp_path) == [entry] and (tmp_path / entry / "data.json").stat().st_ino == inode


def test_unwritable_cache_still_gives_the_data(tmp_path, reference):
    (tmp_path / "cache").write_text("a file where the folder should be")
    assert_same(P.load_prepared("synthetic", CFG, tmp_path / "cache"), reference)


@pytest.mark.parametrize("name", ["../x", "../synthetic", "/tmp/x", "synthetic/../../x", "", "Synthetic", "bbc/.."])
def test_unknown_names_are_never_cached_nor_made_into_paths(tmp_path, monkeypatch, name):
    cache = tmp_path / "a" / "cache"
    with pytest.raises(DataError):
        P.load_prepared(name, CFG, cache)
    monkeypatch.setattr(P, "load_dataset", lambda name, seed: tiny(name))  # even if a loader accepted the name
    assert P.load_prepared(name, CFG, cache)[0].name == name
    assert sorted(tmp_path.rglob("*")) == []


def tiny(name):
    split = Split(["good film", "bad film", "good", "bad"], [1, 0, 1, 0])
    return TextDataset(name, ["neg", "pos"], split, split, split, "an upload")


def test_upload_is_prepared_but_not_cached(tmp_path):
    upload = tiny("../upload")
    dataset, data = P.load_prepared("../upload", CFG, tmp_path / "cache", dataset=upload)
    assert dataset is upload and data.tokenizer.itos[2:] == ["bad", "film", "good"]
    assert sorted(tmp_path.rglob("*")) == []

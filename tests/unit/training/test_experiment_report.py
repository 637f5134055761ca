"""The head-count experiment's saved results: summaries over seeds and verdicts, by hand and from the shipped files."""

import pytest

from attention.training.experiment_report import load, report, summary, verdicts


def row(heads, seed, test_acc, **kw):
    base = dict(val_acc=0.5, test_f1=0.5, seconds=10.0, samples_per_s=100.0, parameters=1000 * heads)
    return dict(base, heads=heads, seed=seed, test_acc=test_acc, **kw)


ROWS = [row(1, 0, 0.70), row(1, 1, 0.72), row(2, 0, 0.80), row(2, 1, 0.82), row(4, 0, 0.71)]


def test_summary_is_the_mean_and_sample_spread_per_head_count():
    s = summary(ROWS)
    assert [x["heads"] for x in s] == [1, 2, 4] and [x["seeds"] for x in s] == [2, 2, 1]
    assert s[0]["test_acc"] == pytest.approx(0.71) and s[0]["test_acc_std"] == pytest.approx(0.0141421, rel=1e-5)
    assert s[2]["test_acc_std"] == 0.0  # one seed: no spread to report
    assert s[1]["parameters"] == 2000


def test_verdicts_compare_every_head_count_with_one_head():
    got = verdicts(ROWS)
    assert [kind for kind, _ in got] == ["a clear win", "within noise"]  # 2 heads: +10 points; 4 heads: +0 ± 1
    assert got[0][1] == "2 heads beat 1 head by 10.0 ± 1.4 points: a clear win."
    assert verdicts([r for r in ROWS if r["heads"] != 1]) == []  # nothing to compare with


def test_the_shipped_experiments_load_and_report():
    saved = load("tweets")
    assert saved["dataset"] == "tweets" and {r["heads"] for r in saved["rows"]} == {1, 2, 4, 8}
    assert load("no-such-dataset") is None
    text = report()
    assert "**tweets**" in text and "**synthetic**" in text and "| 8 |" in text
    assert text.count("1 head by") == 6  # three verdicts per dataset

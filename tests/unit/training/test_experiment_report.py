"""The head-count experiment's saved results: summaries over seeds and verdicts, by hand and from the shipped files."""

import pytest

from attention.training.experiment_report import (
    MATTERS,
    budget,
    compare,
    load,
    report,
    summary,
    unsettled,
    verdicts,
)


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


T_2 = 4.302653  # the t distribution's 97.5% point with 2 degrees of freedom (a printed table)


def seeds(*accs):
    return dict(enumerate(accs))


def test_a_paired_comparison_by_hand():
    """Differences 1, 2, 1 points: mean 4/3, sd 1/sqrt(3), se 1/3; CI 4/3 ± 4.3027/3; t = 4, p = 0.0572."""
    c = compare("2 heads", seeds(0.81, 0.82, 0.81), "1 head", seeds(0.80, 0.80, 0.80))
    assert c.diffs == pytest.approx((1, 2, 1)) and c.mean == pytest.approx(4 / 3)
    assert (c.low, c.high) == pytest.approx((4 / 3 - T_2 / 3, 4 / 3 + T_2 / 3), abs=1e-6)
    assert c.p == pytest.approx(0.0572, abs=1e-4)
    assert c.kind == "no detectable difference"  # the interval, -0.10 to 2.77, holds 0
    assert c.sentence == "2 heads vs 1 head: +1.3 points, 95% CI -0.1 to 2.8, p = 0.057: no detectable difference."


@pytest.mark.parametrize(
    "diffs, kind, words",
    [
        ((1.0, 1.2, 1.1), "gain", "a clear gain"),  # CI 0.85 to 1.35 excludes 0; the mean, 1.1, is >= 1 point
        ((0.5, 0.6, 0.55), "gain", "a small but consistent gain"),  # CI 0.43 to 0.67: detectable, under 1 point
        ((0.9, 1.0, 1.05), "gain", "a small but consistent gain"),  # mean 0.98: just under MATTERS
        ((-1.0, -1.2, -1.1), "loss", "a clear loss"),
        ((-0.5, -0.6, -0.55), "loss", "a small but consistent loss"),
        ((0.5, -0.4, 0.3), "no detectable difference", "no detectable difference"),
        ((0.1, 2.0, 0.3), "no detectable difference", "no detectable difference"),  # large mean, wide CI
    ],
)
def test_the_verdict_follows_from_the_interval_on_both_sides_of_each_boundary(diffs, kind, words):
    b = seeds(0.8, 0.8, 0.8)
    a = {s: b[s] + d / 100 for s, d in zip(b, diffs)}
    c = compare("8 heads", a, "1 head", b)
    assert c.kind == kind and c.sentence.endswith(words + ".")
    assert (c.low > 0 or c.high < 0) == (kind != "no detectable difference")
    if kind != "no detectable difference":
        assert (abs(c.mean) >= MATTERS) == ("clear" in words)


def test_one_seed_and_identical_values_give_no_interval():
    one = compare("8 heads", seeds(0.81), "1 head", seeds(0.80))
    assert one.kind == "no verdict" and one.low is None and one.sentence.endswith("one seed (+1.0 points), no verdict.")
    same = compare("8 heads", seeds(0.8, 0.7), "1 head", seeds(0.8, 0.7))
    assert same.kind == "no verdict" and same.p is None and "the same accuracy on every seed" in same.sentence
    shifted = compare("8 heads", seeds(0.81, 0.71), "1 head", seeds(0.80, 0.70))
    assert shifted.kind == "gain" and "the same 1.0-point gap on every seed" in shifted.sentence


def test_verdicts_pair_by_seed_and_compare_every_head_count_with_one_head():
    got = verdicts(ROWS)
    assert [h for h, _ in got] == [2, 4]
    two, four = got[0][1], got[1][1]
    assert two.diffs == pytest.approx((10, 10)) and two.kind == "gain"  # the same +10 on both seeds
    assert four.kind == "no verdict" and four.diffs == pytest.approx((1,))  # 4 heads ran seed 0 only
    assert verdicts([r for r in ROWS if r["heads"] != 1]) == []  # nothing to compare with


def test_runs_that_peak_near_the_end_of_the_budget_are_flagged():
    rows = [dict(row(1, 0, 0.7), best_epoch=7), dict(row(1, 1, 0.7), best_epoch=8), dict(row(2, 0, 0.7), best_epoch=10)]
    assert [r["best_epoch"] for r in unsettled(rows, epochs=10)] == [8, 10]  # 7 is 3 epochs before the end: fine


def test_the_shipped_experiments_load_and_report():
    saved = load("tweets")
    assert saved["dataset"] == "tweets" and {r["heads"] for r in saved["rows"]} == {1, 2, 4, 8}
    assert load("no-such-dataset") is None
    text = report()
    assert "**tweets**" in text and "**synthetic**" in text and "| 8 |" in text
    assert text.count("vs 1 head") + text.count("1 head by") == 6  # three verdicts per dataset
    assert "95% CI" in text and "paired (95% CI)" in text


def test_the_budget_says_fixed_epochs_or_early_stopping():
    assert budget(dict(epochs=10, patience=10)) == "10 epochs"
    assert budget(dict(epochs=200, patience=10)) == (
        "until 10 epochs brought no better validation loss, at most 200 epochs"
    )

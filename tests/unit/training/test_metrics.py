"""Metrics: the seed example, sklearn agreement on a hand-made case, and the plain-language reading."""

import numpy as np
import pytest

from attention.training.metrics import classification_report, reading


def test_seed_example_tp85_fn15_fp10_tn90():
    tp, fn, fp, tn = 85, 15, 10, 90
    y_true = [1] * (tp + fn) + [0] * (fp + tn)
    y_pred = [1] * tp + [0] * fn + [1] * fp + [0] * tn
    rep = classification_report(y_true, y_pred, ["negative", "positive"])
    precision, recall, f1 = rep.precision[1], rep.recall[1], rep.f1[1]
    assert precision == pytest.approx(85 / 95, abs=1e-4) == pytest.approx(0.8947, abs=1e-4)
    assert recall == pytest.approx(0.85)
    assert f1 == pytest.approx(2 * 0.8947 * 0.85 / (0.8947 + 0.85), abs=1e-3)
    assert f1 == pytest.approx(0.871, abs=1e-3)


def test_three_class_report_by_hand():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    rep = classification_report(y_true, y_pred, ["a", "b", "c"])
    assert rep.confusion.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert rep.accuracy == pytest.approx(4 / 6)
    assert rep.precision.tolist() == pytest.approx([1.0, 0.5, 0.5])
    assert rep.recall.tolist() == pytest.approx([2 / 3, 0.5, 1.0])
    assert rep.support.tolist() == [3, 2, 1]
    f1 = [2 * p * r / (p + r) for p, r in zip(rep.precision, rep.recall)]
    assert rep.macro_f1 == pytest.approx(np.mean(f1))
    table = rep.table()
    assert [r["cls"] for r in table] == ["a", "b", "c", "macro avg"]


def test_confusions_list_every_off_diagonal_pair_most_frequent_first():
    # true a: 5 a, 2 b; b: 1 a, 6 b, 3 d; c: 9 c; d: 1 c, 4 d
    y_true = [0] * 7 + [1] * 10 + [2] * 9 + [3] * 5
    y_pred = [0] * 5 + [1] * 2 + [0] + [1] * 6 + [3] * 3 + [2] * 9 + [2] + [3] * 4
    rows = classification_report(y_true, y_pred, list("abcd")).confusions()
    assert [(r["true"], r["predicted"], r["count"]) for r in rows] == [
        ("b", "d", 3),
        ("a", "b", 2),
        ("b", "a", 1),  # ties in class order
        ("d", "c", 1),
    ]
    assert [r["share"] for r in rows] == pytest.approx([3 / 10, 2 / 7, 1 / 10, 1 / 5])
    assert classification_report([0, 1], [0, 1], ["a", "b"]).confusions() == []


def test_missing_class_gives_zero_not_error():
    rep = classification_report([0, 0], [0, 0], ["a", "b"])
    assert rep.precision.tolist() == [1.0, 0.0] and rep.support.tolist() == [2, 0]


def test_reading_names_the_top_confusion_and_the_accuracy_paradox():
    # 95 of class 'ok' all right, 5 of 'rare' all predicted 'ok': 95% accuracy, rare recall 0
    y_true = [0] * 95 + [1] * 5
    y_pred = [0] * 100
    lines = reading(classification_report(y_true, y_pred, ["ok", "rare"]))
    assert "'rare' predicted as 'ok'" in lines[0]
    assert any("accuracy paradox" in line and "'rare' (recall 0%)" in line for line in lines)
    fine = reading(classification_report([0, 1, 1], [0, 1, 1], ["ok", "rare"]))
    assert not any("paradox" in line for line in fine)

"""Classification metrics (scikit-learn underneath) and a plain-language reading of them."""

from dataclasses import dataclass

import numpy as np


@dataclass
class Report:
    classes: list[str]
    confusion: np.ndarray  # (C, C) counts, rows = true class, columns = predicted class
    precision: np.ndarray  # (C,)
    recall: np.ndarray  # (C,)
    f1: np.ndarray  # (C,)
    support: np.ndarray  # (C,) true examples per class

    @property
    def accuracy(self):
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else 0.0

    @property
    def macro_f1(self):
        return float(self.f1.mean())

    def table(self):
        """Rows per class plus the macro average, as a list of dicts (for pandas or JSON)."""
        rows = [
            dict(cls=c, precision=float(p), recall=float(r), f1=float(f), support=int(s))
            for c, p, r, f, s in zip(self.classes, self.precision, self.recall, self.f1, self.support)
        ]
        rows.append(
            dict(
                cls="macro avg",
                precision=float(self.precision.mean()),
                recall=float(self.recall.mean()),
                f1=self.macro_f1,
                support=int(self.support.sum()),
            )
        )
        return rows

    def confusions(self):
        """Every (true, predicted) pair of different classes that occurred, most frequent first (ties in class
        order), with its share of the true class: the whole confusion matrix as a list of dicts, zeros left out."""
        off = self.confusion.copy()
        np.fill_diagonal(off, 0)
        t, p = np.nonzero(off)  # row-major: class order
        order = np.argsort(-off[t, p], kind="stable")
        total = np.maximum(self.confusion.sum(axis=1), 1)
        return [
            dict(
                true=self.classes[i], predicted=self.classes[j], count=int(off[i, j]), share=float(off[i, j] / total[i])
            )
            for i, j in zip(t[order], p[order])
        ]

    def summary(self):
        return dict(accuracy=self.accuracy, macro_f1=self.macro_f1)

    def to_dict(self, loss=None):
        """The report as saved in a run's metrics.json."""
        return dict(loss=loss, **self.summary(), per_class=self.table(), confusion=self.confusion.tolist())


def classification_report(y_true, y_pred, classes):
    """Per-class precision/recall/F1/support and the confusion matrix; classes given by index order."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support  # a worker needs it at the end only

    labels = list(range(len(classes)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    return Report(list(classes), cm, p, r, f, s)


def reading(rep: Report, low_recall=0.5):
    """A few plain sentences on what the confusion matrix says, most important first."""
    lines = []
    off = rep.confusion.copy()
    np.fill_diagonal(off, 0)
    if off.sum():
        t, p = np.unravel_index(off.argmax(), off.shape)
        share = off[t, p] / max(rep.support[t], 1)
        lines.append(
            f"The most common mistake: '{rep.classes[t]}' predicted as '{rep.classes[p]}' "
            f"({off[t, p]} times, {share:.0%} of '{rep.classes[t]}')."
        )
    weak = [i for i in range(len(rep.classes)) if rep.support[i] and rep.recall[i] < low_recall]
    if weak and rep.accuracy >= 0.7:
        names = ", ".join(f"'{rep.classes[i]}' (recall {rep.recall[i]:.0%})" for i in weak)
        lines.append(
            f"Accuracy is {rep.accuracy:.0%}, yet the model finds fewer than half of {names}: "
            "high accuracy can hide a class the model mostly misses (the accuracy paradox)."
        )
    worst = int(np.argmin(rep.f1))
    lines.append(f"Weakest class by F1: '{rep.classes[worst]}' ({rep.f1[worst]:.2f}); macro-F1 {rep.macro_f1:.2f}.")
    return lines

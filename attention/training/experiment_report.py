"""The head-count experiment's saved results, read without training code: summaries over seeds, verdicts.

The Heads lab reads these (attention/training/experiment.py runs the experiment and writes them).
"""

import json
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from attention.training.checkpoints import MODELS_DIR

EXPERIMENTS_DIR = MODELS_DIR / "experiments"


def summary(rows):
    """Mean ± std per head count: a list of dicts sorted by heads."""
    out = []
    for h in sorted({r["heads"] for r in rows}):
        rs = [r for r in rows if r["heads"] == h]
        agg = dict(heads=h, seeds=len(rs), parameters=rs[0]["parameters"])
        for k in ("val_acc", "test_acc", "test_f1", "seconds", "samples_per_s"):
            v = np.array([r[k] for r in rs], float)
            agg[k], agg[k + "_std"] = float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
        out.append(agg)
    return out


MATTERS = 1.0  # points of test accuracy: a smaller gap would not change which model a person picks
SETTLED = 3  # epochs: a run's best validation epoch must come at least this long before its budget ends
ASSUMES = (
    "Paired by seed: each seed trains every head count on the same data order and initialisation seed, so the "
    "test is on the per-seed differences (a paired t-test, 95% interval from the t distribution). It assumes "
    "the seeds' differences are independent draws from one roughly normal spread; with a few seeds the interval is "
    "wide, and a difference it cannot tell from zero may still exist."
)


@dataclass(frozen=True)
class Comparison:
    """a against b over the seeds both have: per-seed differences (points), their mean, 95% CI and p-value."""

    diffs: tuple
    mean: float
    low: float | None
    high: float | None
    p: float | None
    kind: str  # "gain", "loss", "no detectable difference", "no verdict"
    sentence: str


def compare(a_name, a, b_name, b, unit="points"):
    """Compare two {seed: accuracy} dicts, paired by seed; the verdict follows from the interval."""
    seeds = sorted(set(a) & set(b))
    d = np.round([(a[s] - b[s]) * 100 for s in seeds], 9)  # points; float noise rounded away (equal gaps stay equal)
    if len(d) < 2:
        gap = f" ({d[0]:+.1f} {unit})" if len(d) else ""
        return Comparison(tuple(d), float(d.mean()) if len(d) else math.nan, None, None, None, "no verdict",
                          f"{a_name} vs {b_name}: one seed{gap}, no verdict.")  # fmt: skip
    mean, spread = float(d.mean()), float(d.std(ddof=1))
    if spread == 0:  # every seed gave the same difference: no spread to test against
        kind = "no verdict" if mean == 0 else "gain" if mean > 0 else "loss"
        said = (
            "the same accuracy on every seed"
            if mean == 0
            else f"the same {abs(mean):.1f}-{unit[:-1]} gap on every seed"
        )
        return Comparison(tuple(d), mean, mean, mean, None, kind, f"{a_name} vs {b_name}: {said}, no interval.")
    test = stats.ttest_1samp(d, 0.0)
    low, high = (float(x) for x in test.confidence_interval(0.95))
    p, ci = float(test.pvalue), f"95% CI {low:.1f} to {high:.1f}, p = {float(test.pvalue):.3f}"
    if low <= 0 <= high:
        return Comparison(tuple(d), mean, low, high, p, "no detectable difference",
                          f"{a_name} vs {b_name}: {mean:+.1f} {unit}, {ci}: no detectable difference.")  # fmt: skip
    kind, word = ("gain", "beat") if mean > 0 else ("loss", "trail")
    size = "a clear " + kind if abs(mean) >= MATTERS else f"a small but consistent {kind}"
    sentence = f"{a_name} {word} {b_name} by {abs(mean):.1f} {unit}, {ci}: {size}."
    return Comparison(tuple(d), mean, low, high, p, kind, sentence)


def verdicts(rows):
    """Each head count against one head on test accuracy, paired by seed: [(head count, Comparison)]."""
    by = lambda h: {r["seed"]: r["test_acc"] for r in rows if r["heads"] == h}
    one = by(1)
    counts = sorted({r["heads"] for r in rows} - {1})
    return [(h, compare(f"{h} heads", by(h), "1 head", one)) for h in counts if one and by(h)]


def unsettled(rows, epochs):
    """The runs whose best validation epoch came less than SETTLED epochs before the budget's end."""
    return [r for r in rows if r.get("best_epoch") is not None and r["best_epoch"] > epochs - SETTLED]


def budget(train):
    """How long each run trained, in words: a fixed number of epochs, or until early stopping within a cap."""
    epochs, patience = train["epochs"], train["patience"]
    if patience >= epochs:
        return f"{epochs} epochs"
    return f"until {patience} epochs brought no better validation loss, at most {epochs} epochs"


def load(dataset_name):
    """The saved experiment for a dataset, or None."""
    path = EXPERIMENTS_DIR / f"{dataset_name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def report():
    """The saved experiments as markdown: per dataset a table (accuracy with its seed-to-seed spread, the paired
    difference from 1 head with its interval, the cost), the verdicts, and whether every run settled."""
    out = []
    for path in sorted(EXPERIMENTS_DIR.glob("*.json")):
        saved = json.loads(path.read_text())
        rows, epochs = saved["rows"], saved["train"]["epochs"]
        seeds = len({r["seed"] for r in rows})
        about = f"{seeds} seeds, {budget(saved['train'])}, {saved['model']['positional']} positions"
        out += [f"**{saved['dataset']}** ({about})", ""]
        out.append("| heads | test accuracy (mean ± sd over seeds) | − 1 head, paired (95% CI) | p | macro-F1 | "
                   "parameters | seconds per run | samples/s |")  # fmt: skip
        out.append("|---|---|---|---|---|---|---|---|")
        paired = dict(verdicts(rows))
        for s in summary(rows):
            c = paired.get(s["heads"])
            diff = (
                "—" if c is None else f"{c.mean:+.2f}" + ("" if c.low is None else f" ({c.low:+.2f} to {c.high:+.2f})")
            )
            p = "—" if c is None or c.p is None else f"{c.p:.3f}"
            out.append(
                f"| {s['heads']} | {s['test_acc']:.3f} ± {s['test_acc_std']:.3f} | {diff} | {p} | {s['test_f1']:.3f} | "
                f"{s['parameters']:,} | {s['seconds']:.0f} | {s['samples_per_s']:,.0f} |"
            )
        out += ["", *[f"- {c.sentence}" for _, c in paired.items()]]
        ran, best = [len(r["curve"]) for r in rows], [r["best_epoch"] for r in rows]
        out.append(
            f"- Runs trained {min(ran)}–{max(ran)} epochs; their best validation epochs: {min(best)}–{max(best)}."
        )
        late = unsettled(rows, epochs)
        out.append(
            f"- Every run's best validation epoch came at least {SETTLED} epochs before the end."
            if not late
            else f"- **{len(late)} of {len(rows)} runs peaked within {SETTLED} epochs of the end: too short a budget.**"
        )
        out.append("")
    return "\n".join(out)

"""The head-count experiment's saved results, read without training code: summaries over seeds, verdicts.

The Heads lab reads these (attention/training/experiment.py runs the experiment and writes them).
"""

import json
import math

import numpy as np

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


def verdict(a_name, a, b_name, b, unit="points"):
    """A sentence comparing two sets of accuracies (one per seed): a clear win, within noise, or a clear loss.

    The ± is the standard error of the difference of means; a gap counts as real when it is
    more than twice that and at least half a point.
    """
    a, b = np.asarray(a, float) * 100, np.asarray(b, float) * 100
    gap = a.mean() - b.mean()
    se = math.sqrt(sum(x.var(ddof=1) / len(x) if len(x) > 1 else 0.0 for x in (a, b)))
    if abs(gap) <= max(2 * se, 0.5):
        kind = "within noise"
    else:
        kind = "a clear win" if gap > 0 else "a clear loss"
    word = "beat" if gap >= 0 else "trail"
    return kind, f"{a_name} {word} {b_name} by {abs(gap):.1f} ± {se:.1f} {unit}: {kind}."


def verdicts(rows):
    """Each head count against one head, on test accuracy."""
    one = [r["test_acc"] for r in rows if r["heads"] == 1]
    out = []
    for h in sorted({r["heads"] for r in rows} - {1}):
        accs = [r["test_acc"] for r in rows if r["heads"] == h]
        if one and accs:
            out.append(verdict(f"{h} heads", accs, "1 head", one))
    return out


def load(dataset_name):
    """The saved experiment for a dataset, or None."""
    path = EXPERIMENTS_DIR / f"{dataset_name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def report():
    """The saved experiments as markdown: one table per dataset, then the verdicts."""
    out = []
    for path in sorted(EXPERIMENTS_DIR.glob("*.json")):
        saved = json.loads(path.read_text())
        rows, train = saved["rows"], saved["train"]
        seeds = len({r["seed"] for r in rows})
        setup = f"{seeds} seeds, {train['epochs']} epochs, {saved['model']['positional']} positions"
        out.append(f"**{saved['dataset']}** ({setup})")
        out.append("")
        out.append("| heads | test accuracy | test macro-F1 | parameters | seconds per run |")
        out.append("|---|---|---|---|---|")
        for s in summary(rows):
            out.append(
                f"| {s['heads']} | {s['test_acc']:.3f} ± {s['test_acc_std']:.3f} | {s['test_f1']:.3f} ± "
                f"{s['test_f1_std']:.3f} | {s['parameters']:,} | {s['seconds']:.0f} |"
            )
        out.append("")
        out += [f"- {sentence}" for _, sentence in verdicts(rows)]
        out.append("")
    return "\n".join(out)

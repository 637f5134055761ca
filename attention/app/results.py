"""The shipped models' saved test results (models/results.json, written by attention.training.recipes), read cheaply:
no training code and no scikit-learn, so the Explore page starts fast."""

import json

from attention.training.checkpoints import MODELS_DIR


def load_results():
    """Rows of models/results.json, or [] before the defaults were trained."""
    path = MODELS_DIR / "results.json"
    return json.loads(path.read_text()) if path.exists() else []


def baseline(rows, dataset):
    """The TF-IDF + logistic-regression row for `dataset`, or None."""
    return next((r for r in rows if r["dataset"] == dataset and not r["model"].split()[0].isdigit()), None)


def heads_sentence(rows, dataset):
    """One plain sentence, from the shipped models' own test results, on how much the head count matters."""
    ours = [r for r in rows if r["dataset"] == dataset and r["model"].split()[0].isdigit()]
    if len(ours) < 2:
        return None
    accs = ", ".join(f"{r['model']} {r['accuracy']:.1%}" for r in ours)
    spread = max(r["accuracy"] for r in ours) - min(r["accuracy"] for r in ours)
    base = baseline(rows, dataset)
    verdict = "barely changes" if spread < 0.02 else "changes"
    text = f"On {dataset}, the number of heads {verdict} test accuracy: {accs}."
    if base:
        text += f" A TF-IDF + logistic-regression baseline scores {base['accuracy']:.1%}."
    return text

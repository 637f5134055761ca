"""The shipped models: how they are trained, and the table of their results.

python -m attention.training.recipes            # retrain every shipped model into models/, write models/RESULTS.md
python -m attention.training.recipes --only tweets
python -m attention.training.recipes --minilm     # only the heads on MiniLM
"""

import argparse
import json
import time

import torch

from attention.data.registry import load_dataset
from attention.training.baseline import tfidf_baseline
from attention.training.checkpoints import MODELS_DIR, ROOT, write_atomic
from attention.training.embeddings import head_run
from attention.training.loop import TrainConfig, train_run

HEADS = (1, 2, 4, 8)
MODEL = dict(d_model=64, num_layers=1, d_ff=0, positional="sinusoidal", dropout=0.1)
# The diagnostic task is about exact neighbours ("the token just before vs"): learned positions pick that
# up within a few epochs, where sinusoidal ones took 20-60 epochs and often never did (measured here).
MODEL_FOR = {"synthetic": dict(positional="learned")}
RECIPES = {
    # the default dataset: early stopping ends training after 4-6 epochs
    "tweets": (HEADS, TrainConfig(epochs=15, patience=2, lr=2e-3)),
    "synthetic": (HEADS, TrainConfig(epochs=40, patience=6, lr=3e-3)),
    "bbc": ((4,), TrainConfig(epochs=40, patience=4, lr=3e-3)),
}
CACHE = ROOT / "runs" / ".cache"
MINILM_DATASETS = ("tweets", "bbc")  # a linear head on frozen MiniLM, into models/minilm-<dataset>


def model_for(dataset, heads):
    """The shipped models' architecture for a dataset."""
    return dict(MODEL, **MODEL_FOR.get(dataset, {}), num_heads=heads)


def train_defaults(only=None, minilm_only=False):
    """Train every recipe into models/<dataset>-<heads>h (and the MiniLM heads) and return the results rows."""
    rows = []
    for name, (heads, cfg) in RECIPES.items():
        if only and name not in only:
            continue
        dataset = load_dataset(name, seed=cfg.seed)
        if minilm_only:
            rows += [minilm_row(dataset)] if name in MINILM_DATASETS else []
            continue
        base = tfidf_baseline(dataset)
        rows.append(dict(dataset=name, model="TF-IDF + logistic regression", **base, seconds=None, parameters=None))
        for h in heads:
            t0 = time.perf_counter()
            out = MODELS_DIR / f"{name}-{h}h"
            label = f"{name} · {h} head{'s' * (h > 1)}"
            model, _, hist, metrics = train_run(name, model_for(name, h), cfg, out, label, dataset=dataset)
            secs = time.perf_counter() - t0
            test = metrics["test"]
            rows.append(
                dict(
                    dataset=name,
                    model=f"{h} head{'s' * (h > 1)}",
                    accuracy=test["accuracy"],
                    macro_f1=test["macro_f1"],
                    seconds=round(secs, 1),
                    parameters=model.num_parameters(),
                    best_epoch=hist["best_epoch"],
                )
            )
            print(f"{label}: test accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}, {secs:.0f} s")
        if name in MINILM_DATASETS:
            rows.append(minilm_row(dataset))
    return rows


def minilm_row(dataset):
    """Train the head on frozen MiniLM for a dataset (its embeddings cached under runs/.cache) and give its row."""
    t0 = time.perf_counter()
    model, hist, metrics = head_run(dataset, MODELS_DIR / f"minilm-{dataset.name}", f"MiniLM · {dataset.name}", CACHE)
    secs, test = time.perf_counter() - t0, metrics["test"]
    print(f"MiniLM · {dataset.name}: test accuracy {test['accuracy']:.4f}, {secs:.0f} s with embedding")
    return dict(
        dataset=dataset.name,
        model="MiniLM (frozen) + linear head",
        accuracy=test["accuracy"],
        macro_f1=test["macro_f1"],
        seconds=round(secs, 1),
        parameters=sum(p.numel() for p in model.head.parameters()),  # trained here; the encoder's 22.7 M are not
        best_epoch=hist["best_epoch"],
    )


def results_markdown(rows):
    lines = [
        "| dataset | model | test accuracy | test macro-F1 | parameters | training time |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        params = f"{r['parameters']:,}" if r["parameters"] else "-"
        secs = f"{r['seconds']:.0f} s" if r["seconds"] else "-"
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {params} | {secs} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", choices=list(RECIPES))
    p.add_argument("--minilm", action="store_true", help="only the heads on MiniLM (a few seconds once embedded)")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    rows = train_defaults(a.only, a.minilm)
    results = MODELS_DIR / "results.json"
    old = json.loads(results.read_text()) if results.exists() and (a.only or a.minilm) else []
    redone = {(r["dataset"], r["model"]) for r in rows}
    rows = [r for r in old if (r["dataset"], r["model"]) not in redone] + rows
    write_atomic(results, json.dumps(rows, indent=1).encode())
    md = "Produced by `python -m attention.training.recipes` (seed 0, 2 CPU cores).\n\n" + results_markdown(rows)
    write_atomic(MODELS_DIR / "RESULTS.md", md.encode())
    print(md)


if __name__ == "__main__":
    main()

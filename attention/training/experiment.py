"""Does multi-head beat single-head? Train 1/2/4/8 heads on the same data, budget and seeds, and compare.

    python -m attention.training.experiment --dataset tweets       # writes models/experiments/tweets.json
    python -m attention.training.experiment --dataset synthetic
    python -m attention.training.experiment --dataset synthetic --more-seeds 5   # seeds 5-9 added to the saved ones

Every variant trains on the same budget (BUDGETS): on the tweets a fixed number of epochs (the same steps); on
the synthetic task until its validation loss has not improved for 10 epochs, at most 200, because its loss creeps
down for a long time after its accuracy has flattened (a fixed 60 epochs left 8 of 20 runs still peaking at the
end). The weights of each run's best validation epoch are evaluated on the test split.
"""

import argparse
import json
import time
from dataclasses import asdict, replace

import numpy as np
import torch

from attention.data.registry import load_dataset
from attention.training.checkpoints import write_atomic
from attention.training.experiment_report import (
    EXPERIMENTS_DIR,
    SETTLED,
    load,
    report,
    summary,
    unsettled,
    verdicts,
)
from attention.training.loop import TrainConfig, build_model, final_reports, fit, prepare
from attention.training.recipes import model_for

BUDGETS = {  # epochs per dataset: every run's best validation epoch SETTLED or more epochs before the end
    "tweets": TrainConfig(epochs=10, patience=10, lr=2e-3),
    "synthetic": TrainConfig(epochs=200, patience=10, lr=3e-3),  # early stopping: runs took 36-53 epochs
    "bbc": TrainConfig(epochs=30, patience=30, lr=3e-3),
}


def run_one(data, model_kw, cfg: TrainConfig, should_stop=None, on_epoch=None):
    """Train one (heads, seed) variant; returns its result row."""
    heads = model_kw["num_heads"]
    model = build_model(data, model_kw, cfg)
    t0 = time.perf_counter()
    hist = fit(model, data, cfg, on_epoch=on_epoch, should_stop=should_stop)
    secs = time.perf_counter() - t0
    rep = {split: r.summary() for split, (r, _) in final_reports(model, data).items()}
    epochs = hist["epochs"]
    return dict(
        heads=heads,
        seed=cfg.seed,
        val_acc=rep["val"]["accuracy"],
        val_f1=rep["val"]["macro_f1"],
        test_acc=rep["test"]["accuracy"],
        test_f1=rep["test"]["macro_f1"],
        parameters=model.num_parameters(),
        seconds=secs,
        samples_per_s=float(np.mean([e["samples_per_s"] for e in epochs])) if epochs else 0.0,
        best_epoch=hist["best_epoch"],
        curve=[e["val_acc"] for e in epochs],
        stopped=hist["stopped"],
    )


def head_experiment(dataset_name, heads=(1, 2, 4, 8), seeds=range(5), cfg=None, on_result=None, should_stop=None):
    """All (heads, seed) variants on one fixed split. on_result(row, done, total) after each variant."""
    cfg = cfg or BUDGETS.get(dataset_name, TrainConfig())
    data = prepare(load_dataset(dataset_name, seed=0), cfg)
    rows, total = [], len(heads) * len(seeds)
    for seed in seeds:  # seed-major, so a stopped experiment still has every head count for the first seeds
        for h in heads:
            if should_stop and should_stop():
                return rows
            rows.append(run_one(data, model_for(dataset_name, h), replace(cfg, seed=seed), should_stop))
            if on_result:
                on_result(rows[-1], len(rows), total)
    return rows


def save(dataset_name, rows, cfg):
    path = EXPERIMENTS_DIR / f"{dataset_name}.json"
    model = {k: v for k, v in model_for(dataset_name, 1).items() if k != "num_heads"}
    write_atomic(
        path, json.dumps(dict(dataset=dataset_name, train=asdict(cfg), model=model, rows=rows), indent=1).encode()
    )
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description="Train 1/2/4/8 heads x 5 seeds and compare, paired by seed.")
    p.add_argument("--report", action="store_true", help="print the saved experiments as markdown and exit")
    p.add_argument("--dataset", default="tweets", choices=list(BUDGETS))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--more-seeds", type=int, default=0, help="add this many seeds to the saved experiment")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is steadier on a busy 2-core machine)")
    a = p.parse_args(argv)
    if a.report:
        print(report())
        return
    torch.set_num_threads(a.threads)
    cfg, rows, seeds = BUDGETS[a.dataset], [], range(a.seeds)
    if a.more_seeds:  # the next seeds on the saved experiment's own budget, added to its runs
        saved = load(a.dataset)
        cfg, rows = TrainConfig(**saved["train"]), saved["rows"]
        first = max(r["seed"] for r in rows) + 1
        seeds = range(first, first + a.more_seeds)
    t0 = time.perf_counter()
    done = lambda r, i, n: print(
        f"[{i}/{n}] {r['heads']} heads, seed {r['seed']}: test acc {r['test_acc']:.4f}", flush=True
    )
    rows = rows + head_experiment(a.dataset, seeds=tuple(seeds), cfg=cfg, on_result=done)
    print(f"saved {save(a.dataset, rows, cfg)} after {time.perf_counter() - t0:.0f} s")
    for s in summary(rows):
        print(
            f"{s['heads']} heads: test acc {s['test_acc']:.4f} ± {s['test_acc_std']:.4f}, macro-F1 {s['test_f1']:.4f}"
        )
    for _, c in verdicts(rows):
        print(c.sentence)
    late = unsettled(rows, cfg.epochs)
    if late:
        print(f"WARNING: {len(late)} runs peaked within {SETTLED} epochs of the end of {cfg.epochs}: raise the budget")


if __name__ == "__main__":
    main()

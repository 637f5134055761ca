"""Training throughput and time to the best validation loss on the default dataset (tweets).

python bench/train.py      # prints a markdown table; 1/2/4/8 heads, d_model 64, one seed
"""

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from attention.core.model import AttentionClassifier, ModelConfig  # noqa: E402
from attention.data.registry import load_dataset  # noqa: E402
from attention.training.loop import fit, prepare  # noqa: E402
from attention.training.recipes import MODEL, RECIPES  # noqa: E402


def main(heads=(1, 2, 4, 8)):
    torch.set_num_threads(2)
    _, cfg = RECIPES["tweets"]
    data = prepare(load_dataset("tweets"), cfg)
    print(f"tweets: {len(data.train)} training texts, batch {cfg.batch_size}, {torch.get_num_threads()} threads")
    print()
    print("| heads | samples/s (mean over epochs) | epochs run | best epoch | time to best | best val acc |")
    print("|---|---|---|---|---|---|")
    for h in heads:
        torch.manual_seed(cfg.seed)
        model = AttentionClassifier(
            ModelConfig(vocab_size=len(data.tokenizer), num_classes=3, max_len=cfg.max_len, **dict(MODEL, num_heads=h))
        )
        marks = [time.perf_counter()]
        hist = fit(model, data, cfg, on_epoch=lambda r, m=marks: m.append(time.perf_counter() - m[0]))
        marks = marks[1:]
        eps = hist["epochs"]
        best = hist["best_epoch"]
        sps = sum(e["samples_per_s"] for e in eps) / len(eps)
        print(f"| {h} | {sps:,.0f} | {len(eps)} | {best} | {marks[best - 1]:.1f} s | {eps[best - 1]['val_acc']:.3f} |")


if __name__ == "__main__":
    main()

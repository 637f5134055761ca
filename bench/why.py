"""Why this prediction (Explore's two views): server time for every head's contribution, and for the three token
attributions (integrated gradients with its steps), one sentence by length.

    python bench/why.py          # minilm-tweets (72 heads) and tweets-4h; median of 10 after 2 warm-ups
    python bench/why.py --json out.json

Goals (issue 16), MiniLM at 32 tokens: all 72 heads' contributions <= 300 ms, integrated gradients <= 1 s.
One torch thread, as the server runs. Beside the contributions: the same numbers by one analyze() per head (what
the batched computation replaces).
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from attention.analysis.attribution import attribute  # noqa: E402
from attention.analysis.contribution import head_contributions  # noqa: E402
from attention.analysis.sentence import Masks, analyze  # noqa: E402
from attention.training.checkpoints import MODELS_DIR, load_run  # noqa: E402
from bench.cli import median_ms, run  # noqa: E402

WORDS = "the flight was not good at all and my bag is lost but the crew were great thanks".split()
SIZES = {"minilm-tweets": (32, 128, 512), "tweets-4h": (32, 128)}


def sentence(n, pieces):
    """n tokens: n words, or n - 2 for [CLS] ... [SEP] (these words are one piece each)."""
    n -= 2 * pieces
    return " ".join(WORDS[i % len(WORDS)] if n <= 128 else "abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(n))


def one_at_a_time(r, text):
    cfg = r.model.cfg
    for layer in range(cfg.num_layers):
        for head in range(cfg.num_heads):
            analyze(r.model, r.tokenizer, text, Masks(removed_heads=((layer, head),)))


def main():
    torch.set_num_threads(1)
    rows = []
    print("| model | heads | tokens | contributions, batched (ms) | one analyze per head (ms) | attributions (ms) "
          "| IG steps | goals |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, sizes in SIZES.items():
        r = load_run(MODELS_DIR / name)
        heads = r.model.cfg.num_layers * r.model.cfg.num_heads
        for n in sizes:
            text = sentence(n, "encoder" in r.meta)
            assert len(analyze(r.model, r.tokenizer, text).tokens) == n
            batched = median_ms(lambda r=r, t=text: head_contributions(r.model, r.tokenizer, t), repeats=10, warm=2)
            single = median_ms(lambda r=r, t=text: one_at_a_time(r, t), repeats=3, warm=1) if n <= 128 else None
            attrib = median_ms(lambda r=r, t=text: attribute(r.model, r.tokenizer, t), repeats=5, warm=1)
            steps = attribute(r.model, r.tokenizer, text).steps
            goal = "<= 300 ms, <= 1 s" if (name, n) == ("minilm-tweets", 32) else ""
            shown = "—" if single is None else f"{single:.0f}"
            print(f"| {name} | {heads} | {n} | {batched:.0f} | {shown} | {attrib:.0f} | {steps} | {goal} |")
            row = dict(model=name, heads=heads, tokens=n, batched_ms=batched, one_at_a_time_ms=single)
            rows.append(dict(row, attribution_ms=attrib, ig_steps=steps))
    return rows


if __name__ == "__main__":
    run(main)

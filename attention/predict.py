"""Classify texts from a script: one JSON line per text, with every class's probability.

    python -m attention.predict --model tweets-4h "not bad at all" "the crew was rude"
    python -m attention.predict --model runs/.../my-run --file texts.txt    # one text per line

--model is a shipped model's name (a folder of models/) or the path of a saved run. Each line says the text,
the predicted class, every class's probability and how many words were cut off; a text the model has no word
for gets {"text": ..., "error": ...} instead. Texts are run in groups of equal length, never padded, so each
gets exactly what the Explore page shows for it.
"""

import argparse
import json
import sys
from pathlib import Path

import torch

from attention.analysis.sentence import MAX_CHARS
from attention.data.batching import Encoded, batches_by_length
from attention.training.checkpoints import MODELS_DIR, CheckpointError, load_run


def find_run(name: str) -> Path:
    """A run folder: the path itself if it is one, else the shipped model of that name."""
    for path in (Path(name), MODELS_DIR / name):
        if (path / "config.json").is_file():
            return path
    shipped = sorted(p.name for p in MODELS_DIR.iterdir() if (p / "config.json").is_file())
    raise CheckpointError(f"No model called {name!r}: give a run folder, or one of {', '.join(shipped)}")


@torch.inference_mode()
def predict(run, texts, batch_size=256):
    """One dict per text: prediction, probabilities (class -> p) and truncated_words; or error."""
    encs = [run.tokenizer.encode(t[:MAX_CHARS], run.model.cfg.max_len) for t in texts]  # as Explore cuts them
    out = [dict(text=t) for t in texts]
    readable = [i for i, e in enumerate(encs) if e.ids]
    for i in sorted(set(range(len(texts))) - set(readable)):
        out[i]["error"] = "no words this model can read"
    data = Encoded([torch.tensor(encs[i].ids) for i in readable], torch.zeros(len(readable), dtype=torch.long))
    for idx, ids, _, _ in batches_by_length(data, batch_size):  # equal lengths: no padding
        logits, _ = run.model(ids, is_causal=run.model.cfg.causal, need_weights=False)  # masks as trained
        for j, p, c in zip(idx.tolist(), logits.softmax(-1).tolist(), logits.argmax(-1).tolist()):
            i = readable[j]
            out[i].update(prediction=run.classes[c], probabilities=dict(zip(run.classes, p)))
            out[i]["truncated_words"] = encs[i].truncated
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m attention.predict", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="a shipped model's name, or a run folder")
    ap.add_argument("--file", type=Path, help="texts, one per line (UTF-8)")
    ap.add_argument("texts", nargs="*", help="texts to classify")
    args = ap.parse_args(argv)
    texts = list(args.texts)
    if args.file:
        texts += args.file.read_text(encoding="utf-8").splitlines()
    if not texts:
        ap.error("give texts, or --file")
    try:
        run = load_run(find_run(args.model))
    except CheckpointError as e:
        ap.exit(2, f"{e}\n")
    run.model.eval()
    for row in predict(run, texts):
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())

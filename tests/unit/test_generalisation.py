"""The out-of-domain check: the review snippets as shipped, how a 3-class model's answer is read, and the claim the
README makes (the MiniLM head reads reviews clearly better than the small tweet models)."""

import numpy as np

from attention.generalisation import load_reviews, model_probabilities, read_as


def test_the_reviews_are_the_fresh_and_rotten_snippets_without_plot_summaries_or_repeats():
    texts, labels = load_reviews()
    assert len(texts) == len(set(texts)) > 4800
    assert set(labels) == {"positive", "negative"} and 0.45 < labels.count("positive") / len(labels) < 0.55
    sample, _ = load_reviews(limit=50)
    assert len(sample) == 50 and set(sample) <= set(texts) and sample == load_reviews(limit=50)[0]


def test_a_review_is_read_as_the_likelier_of_positive_and_negative_and_neutral_is_counted():
    classes = ["negative", "neutral", "positive"]
    p = [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.1, 0.1, 0.8]]
    picked, neutral = read_as(p, classes)
    assert list(picked) == ["positive", "negative", "positive"] and list(neutral) == [True, False, False]
    picked, neutral = read_as([[0.7, 0.3]], ["positive", "negative"])  # no neutral class
    assert list(picked) == ["positive"] and not neutral.any()


def test_minilm_reads_reviews_clearly_better_than_the_small_tweet_model():
    texts, labels = load_reviews(limit=400, seed=1)
    acc = {}
    for name in ("tweets-4h", "minilm-tweets"):
        probs, classes = model_probabilities(name, texts)
        read = [i for i, p in enumerate(probs) if p is not None]  # a text with no word the model knows: wrong
        picked, _ = read_as([probs[i] for i in read], classes)
        acc[name] = float(np.sum(picked == np.array(labels)[read]) / len(texts))
    assert acc["minilm-tweets"] >= acc["tweets-4h"] + 0.05, acc

"""What each dataset's model knows: example sentences, what it is likely to get wrong, when to doubt it."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attention.analysis.sentence import Analysis

# Example sentences per dataset: the Explore page offers them, the Train page watches heads on them.
EXAMPLES = {
    "tweets": ["the flight was not good at all", "thanks for the great service!", "my bag is lost and nobody answers"],
    "bbc": ["shares rise as profits beat forecasts", "new film tops the box office", "minister defends tax plans"],
    "synthetic": ["the dog 4 sat 3 vs 8 on a mat", "7 vs 2 with new 5 ran", "big 9 1 vs 6 tree 3"],
}


# What each built-in model learned from, and what it is likely to get wrong: said next to every prediction.
SCOPE = {
    "tweets": (
        "about 21,000 tweets about airlines, brands and events, labelled negative, neutral or positive",
        "It knows that world: sentences on other topics are often misread (plain statements tend to come out "
        "negative), and so are negations such as “not bad” and sarcasm.",
    ),
    "bbc": (
        "about 1,700 BBC News headlines from 2004–05 in five topics",
        "Anything that is not a news headline is often misread, and it always answers with one of the five topics.",
    ),
    "synthetic": (
        "made-up sentences where the label says which side of “vs” has the larger number",
        "Only sentences of that form mean anything to it; any other sentence gets an arbitrary answer.",
    ),
}


def scope_note(dataset: str, pretrained: bool = False) -> str:
    """One or two plain sentences: what a model trained on `dataset` learned from, and where it goes wrong.
    pretrained: a head on MiniLM, whose encoder learned English elsewhere."""
    what, risk = SCOPE.get(dataset, (f"an uploaded file ({dataset})", "Text unlike that file is likely misread."))
    if pretrained:
        return (
            "This model is MiniLM, an encoder pretrained on over a billion sentence pairs from the web, with a "
            f"classifier trained here on {what}. The encoder reads general English; what each class means, and "
            "its blind spots, come from that data."
        )
    return f"This model learned from {what}. {risk}"


UNSURE_BELOW = 0.6  # top probability under this: no class clearly wins (above it, the runner-up is 20+ points behind)
UNKNOWN_SHARE = 0.25  # this share of the words unknown to the model or more


def doubts(a: "Analysis") -> list[str]:
    """Plain reasons to doubt a prediction (empty when none): no clear winner, or many unknown words."""
    top = float(a.probs.max())
    words = a.unknown[: len(a.unknown) - a.n_pad]
    unknown = sum(words)
    out = []
    if top < UNSURE_BELOW:
        out.append(f"no class reaches {UNSURE_BELOW:.0%} (the likeliest has {top:.0%})")
    if words and unknown / len(words) >= UNKNOWN_SHARE:
        out.append(f"{unknown} of its {len(words)} words are unknown to the model")
    return out

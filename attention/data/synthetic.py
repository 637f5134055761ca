"""A diagnostic task where the number of heads matters, with known answers for each head.

Each text is filler words and decoy numbers around one match, "A vs B":

    "the dog 4 sat 3 vs 8 on a mat 9 today"  ->  label "right" (8 > 3)

The label says which side of "vs" has the larger number. Solving it takes two
relations at once: the number just before "vs" and the number just after it.
Both are numbers, so a single head that looks at both gets one blend of the two
and can keep left and right apart only by weighting them unequally, which is
slow to learn; with two heads each side can have its own head. Decoy numbers
elsewhere stop a bag of words from solving it. The true positions are known:
`targets` says where "vs" and its two numbers are.
"""

import random

from attention.data.types import Split, TextDataset

MARKER = "vs"
CLASSES = ("left", "right")  # which side has the larger number
NUMBERS = tuple(str(n) for n in range(1, 10))
FILLER = tuple(
    "the a dog cat sat on mat today and then ran to park big small red blue tree house saw very "
    "old new with from it was there".split()
)
SIZES = dict(train=8000, val=1000, test=1000)


def make_example(rng: random.Random, length=(8, 14), decoys=(1, 3)):
    """One (text, label) pair: label 0 if the number left of "vs" is larger, 1 if the right one is."""
    a, b = rng.sample(NUMBERS, 2)
    units = [[a, MARKER, b]] + [[rng.choice(NUMBERS)] for _ in range(rng.randint(*decoys))]
    units += [[rng.choice(FILLER)] for _ in range(max(rng.randint(*length) - 3 - len(units) + 1, 0))]
    rng.shuffle(units)
    words = [w for unit in units for w in unit]
    return " ".join(words), int(int(b) > int(a))


def targets(tokens):
    """Positions (marker, left number, right number) of the first "vs" with a token on each side, or None."""
    for i in range(1, len(tokens) - 1):
        if tokens[i] == MARKER:
            return i, i - 1, i + 1
    return None


def query_key_pairs(tokens):
    """[(vs, left number), (vs, right number)]: what two heads should find, or [] if there is no "vs"."""
    t = targets(tokens)
    return [(t[0], t[1]), (t[0], t[2])] if t else []


def make_synthetic(seed: int = 0) -> TextDataset:
    """Train/val/test splits generated from separate seeds, so they never share a generator state."""
    splits = {}
    for k, (name, n) in enumerate(SIZES.items()):
        rng = random.Random(seed * 1000 + k)
        texts, labels = zip(*(make_example(rng) for _ in range(n)))
        splits[name] = Split(list(texts), list(labels))
    desc = (
        "Synthetic task generated in code: which side of 'vs' has the larger number? "
        "It needs the token before and the token after 'vs' at once; other numbers are decoys."
    )
    return TextDataset("synthetic", list(CLASSES), splits["train"], splits["val"], splits["test"], desc)

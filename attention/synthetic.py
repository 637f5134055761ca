"""A diagnostic task where the number of heads matters, with known answers for each head.

Each text hides two people among filler words and decoys, each followed by a number:

    "the dog sat carol 7 alice 3 on a mat bob 8 dave 2 today"  ->  label "bob"

The label says who has more, alice or bob. Solving it takes two different
relations at once: the number after "alice" and the number after "bob"
(carol's and dave's numbers are decoys, so counting words cannot work). In one
layer, a single head mixes both numbers into the same subspace and loses whose
number is whose; two or more heads can keep them apart. The true positions are
known: `targets` returns, for each name, where it is and where its number is.
"""

import random

from attention.data import Split, TextDataset

NAMES = ("alice", "bob")  # the two whose numbers decide the label
DECOYS = ("carol", "dave")  # followed by numbers that do not matter
NUMBERS = tuple(str(n) for n in range(1, 10))
FILLER = tuple(
    "the a dog cat sat on mat today and then ran to park big small red blue tree house saw very "
    "old new with from it was there".split()
)
SIZES = dict(train=8000, val=1000, test=1000)


def make_example(rng: random.Random, length=(8, 16)):
    """One (text, label) pair: label 0 if alice's number is larger, 1 if bob's."""
    a, b = rng.sample(NUMBERS, 2)
    pairs = [("alice", a), ("bob", b)] + [(d, rng.choice(NUMBERS)) for d in DECOYS if rng.random() < 0.8]
    n_filler = max(rng.randint(*length) - 2 * len(pairs), 0)
    units = [[rng.choice(FILLER)] for _ in range(n_filler)] + [list(p) for p in pairs]
    rng.shuffle(units)  # pairs move as units, so a name is always followed by its own number
    words = [w for unit in units for w in unit]
    return " ".join(words), int(int(b) > int(a))


def targets(tokens):
    """For each of NAMES: (position of the name, position of its number) in a token list, or None."""
    out = {}
    for i, t in enumerate(tokens[:-1]):
        if t in NAMES and t not in out:
            out[t] = (i, i + 1)
    return out


def make_synthetic(seed: int = 0) -> TextDataset:
    """Train/val/test splits generated from separate seeds, so they never share a generator state."""
    splits = {}
    for k, (name, n) in enumerate(SIZES.items()):
        rng = random.Random(seed * 1000 + k)
        texts, labels = zip(*(make_example(rng) for _ in range(n)))
        splits[name] = Split(list(texts), list(labels))
    desc = (
        "Synthetic diagnostic task generated in code: who has the larger number, alice or bob? "
        "Each name is followed by its number; carol and dave are decoys. One head must track two relations at once."
    )
    return TextDataset("synthetic", list(NAMES), splits["train"], splits["val"], splits["test"], desc)

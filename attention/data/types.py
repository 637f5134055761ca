"""What a dataset is: texts and labels in three splits, and the error a bad dataset raises."""

from dataclasses import dataclass


class DataError(ValueError):
    """A dataset or upload that cannot be used; the message is shown to the user as is."""


@dataclass
class Split:
    texts: list[str]
    labels: list[int]  # indices into TextDataset.classes


@dataclass
class TextDataset:
    name: str
    classes: list[str]
    train: Split
    val: Split
    test: Split
    description: str  # one or two sentences for the UI, including the source


def split_stratified(texts, labels, seed: int = 0, val: float = 0.1, test: float = 0.1) -> tuple[Split, Split, Split]:
    """Shuffle into train/val/test with the same class proportions in each, reproducibly."""
    from sklearn.model_selection import train_test_split  # here: a worker with a cached dataset never needs it

    texts, labels = list(texts), list(labels)
    try:
        rest_x, test_x, rest_y, test_y = train_test_split(
            texts, labels, test_size=test, random_state=seed, stratify=labels
        )
        train_x, val_x, train_y, val_y = train_test_split(
            rest_x, rest_y, test_size=val / (1 - test), random_state=seed, stratify=rest_y
        )
    except ValueError:
        # Too few examples per class to stratify (only tiny uploads): a plain shuffle still works.
        rest_x, test_x, rest_y, test_y = train_test_split(texts, labels, test_size=test, random_state=seed)
        train_x, val_x, train_y, val_y = train_test_split(rest_x, rest_y, test_size=val / (1 - test), random_state=seed)
    return Split(train_x, train_y), Split(val_x, val_y), Split(test_x, test_y)


def make_dataset(name: str, texts, labels, classes: list[str], description: str, seed: int) -> TextDataset:
    """Split (text, label-index) pairs into a TextDataset."""
    train, val, test = split_stratified(texts, labels, seed=seed)
    return TextDataset(name, list(classes), train, val, test, description)

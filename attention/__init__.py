"""Multi-head attention, head by head: the model, its data and training, what its heads do, and their figures.

In a notebook:

    import attention
    run = attention.load("models/tweets-4h")                        # a saved run: model, tokenizer, classes
    a = attention.analyze(run.model, run.tokenizer, "the flight was late")
    a.probs, a.tokens, a.weights[0].shape                           # (H, T, T) per layer; rows sum to 1

Layers, each importing only those above it: core (torch only) -> data -> training -> analysis -> viz -> app
(Streamlit-free services the pages call). Nothing here imports Streamlit.
"""

# Every name is imported when first used: `import attention.app.runstore` (a page's first paint) then needs no torch.
LAZY = {"Analysis": "attention.analysis.sentence", "Masks": "attention.analysis.sentence"}
LAZY |= {"analyze": "attention.analysis.sentence", "MultiHeadAttention": "attention.core.mha"}
LAZY |= {"AttentionClassifier": "attention.core.model", "ModelConfig": "attention.core.model"}
LAZY |= {"Tokenizer": "attention.core.tokenizer", "MODELS_DIR": "attention.training.checkpoints"}
LAZY |= {"Run": "attention.training.checkpoints", "load_run": "attention.training.checkpoints"}
LAZY |= {"save_run": "attention.training.checkpoints", "load_dataset": "attention.data.registry"}
LAZY |= {"TrainConfig": "attention.training.loop", "train_run": "attention.training.loop"}
LAZY |= {"fit": "attention.training.loop"}
ALIASES = {"load": "load_run"}

__all__ = [*LAZY, *ALIASES]


def __getattr__(name):
    import importlib

    real = ALIASES.get(name, name)
    if real in LAZY:
        return getattr(importlib.import_module(LAZY[real]), real)
    raise AttributeError(f"module 'attention' has no attribute {name!r}")

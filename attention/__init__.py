"""Multi-head attention, head by head: the model, its data and training, what its heads do, and their figures.

In a notebook:

    import attention
    run = attention.load("models/tweets-4h")                        # a saved run: model, tokenizer, classes
    a = attention.analyze(run.model, run.tokenizer, "the flight was late")
    a.probs, a.tokens, a.weights[0].shape                           # (H, T, T) per layer; rows sum to 1

Layers, each importing only those above it: core (torch only) -> data -> training -> analysis -> viz -> app
(Streamlit-free services the pages call). Nothing here imports Streamlit.
"""

from attention.analysis.sentence import Analysis, Masks, analyze
from attention.core.mha import MultiHeadAttention
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.training.checkpoints import MODELS_DIR, Run, load_run, save_run

load = load_run
# Imported when first used: they bring pandas and scikit-learn, which the model and its analysis do not need.
LAZY = {"load_dataset": "attention.data.registry", "TrainConfig": "attention.training.loop"}
LAZY |= {"train_run": "attention.training.loop", "fit": "attention.training.loop"}

__all__ = ["Analysis", "AttentionClassifier", "MODELS_DIR", "Masks", "ModelConfig", "MultiHeadAttention", "Run"]
__all__ += ["Tokenizer", "analyze", "load", "load_run", "save_run", *LAZY]


def __getattr__(name):
    import importlib

    if name in LAZY:
        return getattr(importlib.import_module(LAZY[name]), name)
    raise AttributeError(f"module 'attention' has no attribute {name!r}")

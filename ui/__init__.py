"""What the pages share, by concern: pages call ui.models.load(...), ui.links.read_url_once(...), and so on.

server    process and session resources (torch threads, the allocator, imports done once)
frame     what surrounds every page (app.py draws it; ensure_router when a page runs without app.py)
models    which model a page shows: cached runs, the sidebar's picker and summary
links     the address bar as state: shared links read once, the view written back
controls  widget state that outlives a page, and the callbacks of shared controls
inside    Inside a head beyond the one head: what each head of the layer adds
heatmaps  attention heatmaps drawn on a canvas from packed arrays (Explore)
explore   Explore's views of a sentence: prediction, the layer's heads, every head at a glance, across the layers
tour      a first visit's tour of Explore, remembered in a cookie
why       why this prediction (Explore): which heads made it, which tokens by three attribution methods
head_map  the Heads lab's map of all heads: per-head scores, a head's top texts, groups switched off
heads_lab  the Heads lab's verdicts on head counts, paired by seed
training_view  how one training is drawn on the Train page (live or saved)
runs_view  the Train page's runs: the visitor's own, shared with them, shipped; rename, delete, share
visitor   who the visitor is (login or a cookie), and so which runs are theirs
words     text for the page: user text escaped, what was cut, masks and head names
"""

import importlib

__all__ = [
    "controls",
    "explore",
    "frame",
    "heatmaps",
    "inside",
    "links",
    "models",
    "runs_view",
    "server",
    "training_view",
]
__all__ += ["head_map", "heads_lab", "tour", "visitor", "why", "words"]


def __getattr__(name):
    """ui.models and the rest are imported when first used: a page's first paint needs no torch (ui.server)."""
    if name in __all__:
        return importlib.import_module(f"ui.{name}")
    raise AttributeError(f"module 'ui' has no attribute {name!r}")

"""Explore's views of a model with several layers: every head at a glance, and attention across the layers."""

import functools

import numpy as np
import streamlit as st

import ui
from attention.analysis.views import layer_means, merge_pieces, rollout
from attention.viz import packed


def probabilities(classes, probs, top=10):
    """Every class's probability as one of Streamlit's own progress bars, the likeliest in bold, in the classes'
    order (past `top` classes, the most likely `top`). No chart library: Explore loads no plotly.js at all."""
    order = np.argsort(probs)[::-1]  # likeliest first
    for i in sorted(order[:top]):
        name = ui.words.md_escape(classes[i])
        st.progress(float(probs[i]), text=f"{f'**{name}**' if i == order[0] else name} · {probs[i]:.1%}")
    if len(classes) > top:
        st.caption(f"{len(classes) - top} other classes: {float(probs[order[top:]].sum()):.1%} together.")


def overview(weights, cfg):
    """All L × H heads as thumbnails, one row per layer; clicking one shows it enlarged in the layer's grid."""
    st.subheader(f"All {cfg.num_layers * cfg.num_heads} heads at a glance")
    T = weights[0].shape[-1]
    blocks = f" Past {packed.THUMB_CELLS} tokens a thumbnail's cell averages a block of weights." * (
        T > packed.THUMB_CELLS
    )
    st.caption(
        "One row per layer, one thumbnail per head, on the same colour scale. Click a head to enlarge it below."
        + blocks
    )
    thumbs = np.concatenate([packed.thumbnails(w) for w in weights])  # (L * H, n, n)
    titles = [f"L{layer + 1}H{h + 1}" for layer in range(cfg.num_layers) for h in range(cfg.num_heads)]
    cells = list(map(str, range(thumbs.shape[-1])))
    message = packed.pack(
        thumbs, cells, titles, wrap=cfg.num_heads, name="attention-all-heads", click=True, hover="title", ticks=False
    )
    ui.heatmaps.heatmaps(message, key="overview", on_click=functools.partial(_enlarge, cfg.num_heads))


def _enlarge(heads, p):
    """The clicked thumbnail's layer and head become the grid's layer and focus."""
    st.session_state["layer"], st.session_state["focus"] = p // heads + 1, f"h{p % heads + 1}"


def enlarge_panel(heads, p):
    """A click on the grid's panel p (heads, then their average) shows that panel alone."""
    st.session_state["focus"] = f"h{p + 1}" if p < heads else "avg"


def across_layers(weights, groups, labels):
    """Every head of every layer averaged, beside attention rollout; on words if `groups` merges the pieces."""
    st.subheader("Across all layers: the average and rollout")
    st.caption(
        "Left: every head of every layer averaged. Right: attention rollout (Abnar & Zuidema 2020): each layer's "
        "average plus the identity for the residual connection, rows renormalised, multiplied from the first layer "
        "to the last. Row i estimates how much each input token reaches token i at the top, following attention "
        "alone: a rough guide, since it ignores the values and the feed-forward layers."
    )
    mats = [layer_means(weights).mean(0), rollout(weights)]
    if groups is not None:
        mats = [merge_pieces(m, groups) for m in mats]
    titles = ["average of all heads, all layers", "attention rollout"]
    ui.heatmaps.heatmaps(packed.pack(mats, labels, titles, wrap=2, name="attention-across-layers"), key="across")

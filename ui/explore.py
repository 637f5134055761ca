"""Explore's views of a model with several layers: every head at a glance, and attention across the layers."""

import streamlit as st

from attention.analysis.views import layer_means, merge_pieces, rollout
from attention.viz import attention_maps


def overview(weights, cfg):
    """All L × H heads as thumbnails, one row per layer; clicking one shows it enlarged in the layer's grid."""
    st.subheader(f"All {cfg.num_layers * cfg.num_heads} heads at a glance")
    T = weights[0].shape[-1]
    blocks = f" Past {attention_maps.THUMB_CELLS} tokens a thumbnail's cell averages a block of weights." * (
        T > attention_maps.THUMB_CELLS
    )
    st.caption(
        "One row per layer, one thumbnail per head, on the same colour scale. Click a head to enlarge it below."
        + blocks
    )
    st.plotly_chart(
        attention_maps.overview(weights),
        key="overview",
        on_select=_enlarge,
        selection_mode="points",
        config={"displayModeBar": False},
    )


def _enlarge():
    """The clicked thumbnail's layer and head become the grid's layer and focus."""
    points = st.session_state["overview"]["selection"]["points"]
    if points:
        layer, head = points[0]["customdata"]
        st.session_state["layer"], st.session_state["focus"] = layer + 1, f"h{head + 1}"


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
    st.plotly_chart(attention_maps.heatmaps(mats, labels, titles, wrap=2), key="across")

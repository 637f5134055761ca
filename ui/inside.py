"""Inside a head's views beyond the one head: what each head of the layer adds, and what that does to the class."""

import numpy as np
import pandas as pd
import streamlit as st

import ui
from attention.analysis.sentence import analyze
from attention.analysis.teaching import head_shares


@st.cache_data(max_entries=8, show_spinner=False)
def _other_positions(name, mtime, text, masks, layer, _run):
    a = analyze(_run.model, _run.tokenizer, text, masks)
    return a.probs, a.weights[layer - 1]


def other_positions(name, run, text, masks, layer):
    """(probabilities, the layer's weights (H, T, T)) of the sentence run with the other choice of positions:
    cached, so switching heads does not run it again (only the layer is kept: MiniLM's 72 heads at 512 tokens
    would be 75 MB an entry)."""
    return _other_positions(name, ui.models.run_mtime(name), text, masks, layer, run)


def what_each_head_adds(name, run, text, masks, t, layer):
    """Per head of the layer: how big a vector it adds to each token (its share of the attention output), and how
    far the predicted class's logit and probability move without it. The heads write into the same stream."""
    st.subheader("What each head adds")
    shares = head_shares(t)  # (H, T, D)
    c = ui.why.analysis("heads", name, run, text, masks)  # cached: a head switch does not recompute it
    cls = ui.words.md_escape(run.classes[c.cls])
    st.markdown(
        f"Every head adds its share (its output times its rows of W_o) to the same {shares.shape[-1]} numbers of "
        f"each token: the layer's output is the sum of the shares plus b_o. Without a head, **{cls}**'s logit "
        "and probability move by the amounts below (the rest of the model as it is)."
    )
    size = np.linalg.norm(shares, axis=-1).mean(-1)  # (H,) the length of its added vector, averaged over tokens
    table = pd.DataFrame(
        {
            "head": [f"head {h + 1}" for h in range(len(shares))],
            "length of what it adds (mean over tokens)": size.round(3),
            f"{run.classes[c.cls]}: logit lost without it": c.d_logit[layer - 1].round(3),
            "probability lost (points)": (100 * c.d_prob[layer - 1]).round(2),
        }
    )
    st.dataframe(table, hide_index=True)
    gap = float(np.abs(shares.sum(0) + t.b_o - t.output).max())
    st.caption(f"Sum of the shares + b_o against the layer's output: largest difference {gap:.1e}.")

"""Learn: the textbook's ideas about attention, with this app's numbers: why √d_k, what heads cost, and how
positions are encoded."""

import numpy as np
import pandas as pd
import streamlit as st

import ui
from attention.analysis.sentence import Masks
from attention.analysis.stages import positions_table, trace
from attention.analysis.teaching import (
    attention_cost,
    layer_comparison,
    peak,
    position_similarity,
    score_rows,
    softmax,
)
from attention.viz import bar_charts, histograms, line_charts, packed

ui.frame.ensure_router()
ui.links.read_url_once("learn", ui.links.parsers("text"))  # a link may name the sentence; else Explore's, or an example

st.title("Learn: the ideas, live")
st.caption(
    "Three ideas the textbooks show with fixed numbers, here with random numbers you control and then the "
    "numbers of the model in the sidebar, on the sentence from Explore."
)
ui.links.show_notices()
name, run = ui.models.chosen_run()
cfg = run.model.cfg
if not (st.session_state.get("text") or "").strip():
    st.session_state["text"] = ui.models.examples(name)[0]  # Learn opens on an example; the box is Explore's
text = st.text_input(
    "Sentence", key="text", help="The same sentence as on Explore: change it here or there.", **ui.controls.KEEP
)

st.header("Why divide the scores by √d_k?")
st.markdown(
    "A score is a dot product q·k of d_k numbers. If those numbers are random with variance 1, the score's "
    "variance is d_k: the longer the vectors, the further the scores spread. The softmax then puts nearly all "
    "the weight on the largest score, and its gradient almost vanishes. Dividing by √d_k brings the variance "
    "back to 1, whatever d_k is."
)
own = cfg.d_model // cfg.num_heads  # this model's, among the powers of two
d_k = st.select_slider("d_k", sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, own}), value=own)
raw, scaled = score_rows(d_k)
left, right = st.columns(2)
with left:
    fig = histograms.overlaid({"q·k": raw.ravel(), "q·k / √d_k": scaled.ravel()}, "score")
    st.plotly_chart(fig, key="dot_products")
    st.caption(f"20,000 random scores at d_k = {d_k}: variance {raw.var():.1f} raw, {scaled.var():.2f} scaled.")
with right:
    weights = softmax(np.stack([raw[0], scaled[0]]))  # one row of 10 scores, raw and scaled
    labels = [f"key {i + 1}" for i in range(weights.shape[1])]
    both = [f"{a:.2f} · {b:.2f}" for a, b in zip(weights[0], weights[1])]
    st.plotly_chart(bar_charts.bars(labels, weights[0], "softmax of one row of 10 raw scores", text=both), key="row")
    mean_peaks = f"{peak(raw).mean():.2f} raw and {peak(scaled).mean():.2f} scaled"
    st.caption(
        f"Bars: the raw row's weights; written: raw · scaled. Over 2,000 rows the largest weight averages "
        f"{mean_peaks} (1/10 = uniform)."
    )

st.subheader(f"The same in {run.meta.get('label', name)}")
layer = st.segmented_control("Layer", list(range(1, cfg.num_layers + 1)), default=1, key="learn_layer") or 1
try:
    t = trace(run.model, run.tokenizer, text, Masks(), layer - 1, 0)
except ValueError as e:  # a sentence with no word the model reads
    st.info(f"{e} (on Explore, then come back).")
    st.stop()
live = ~t.mask.astype(bool) if t.mask is not None else np.ones_like(t.scores, dtype=bool)
unscaled = np.where(live, t.scores, -np.inf)
st.markdown(
    f"Layer {layer}, head 1, on *{ui.words.md_escape(text[:80])}* ({len(t.tokens)} tokens, d_k = {t.d_k}): the scores "
    f"Q·Kᵀ have variance **{t.scores[live].var():.2f}**, the scaled ones **{t.scaled[live].var():.2f}**. The "
    f"largest weight of a row averages **{peak(unscaled).mean():.2f}** without the scaling and "
    f"**{peak(np.where(live, t.scaled, -np.inf)).mean():.2f}** with it (1/{len(t.tokens)} = uniform). A trained "
    "model's Q and K are not random: the scaling keeps its scores in the range the softmax was trained on."
)

st.header("What heads cost")
T = len(t.tokens)
st.markdown(
    f"Splitting d_model = {cfg.d_model} into h heads makes each head d_k = {cfg.d_model}/h wide, so the "
    "parameters and the arithmetic stay the same for any h; only the attention weights kept (one T × T table "
    f"per head) grow with h. For this sentence's T = {T} tokens, one layer:"
)
heads = sorted({1, 2, 4, 8, cfg.num_heads} & {h for h in range(1, cfg.d_model + 1) if cfg.d_model % h == 0})
costs = pd.DataFrame([attention_cost(cfg.d_model, h, T) for h in heads])
names = {"d_k": "d_k = d_model / h", "multiply_adds": "multiply-adds", "weights": "attention weights kept"}
st.dataframe(costs.rename(columns=names).style.format(thousands=","), hide_index=True)
ratio = lambda key: attention_cost(cfg.d_model, 1, 2 * T)[key] / attention_cost(cfg.d_model, 1, T)[key]
st.caption(
    f"Twice the tokens ({2 * T}): {ratio('multiply_adds'):.1f}x the multiply-adds and {ratio('weights'):.0f}x the "
    "weights. The projections grow with T and the scores with T²: on short sentences the projections dominate, "
    f"and the scores take over past T = 2·d_model = {2 * cfg.d_model} tokens."
)
st.markdown("Against the other ways to mix tokens (d2l.ai 11.6), for this length:")
st.dataframe(
    pd.DataFrame(layer_comparison(cfg.d_model, T)).rename(
        columns={
            "operations": "operations (order of)",
            "sequential": "sequential steps",
            "longest_path": "longest path",
        }
    ),
    hide_index=True,
)
st.caption("Self-attention connects any two tokens in one step and runs all positions at once; it pays with T².")

st.header("How positions are encoded")
table = positions_table(run.model)
if table is None:
    st.markdown(ui.words.NO_POSITIONS)
else:
    kind = "sine and cosine curves of falling frequency" if cfg.positional == "sinusoidal" else "learned in training"
    n = min(len(table), 100)
    st.markdown(
        f"Each position p has a row of {cfg.d_model} numbers added to the embedding of the token standing there "
        f"({kind}). Left: a few of those numbers (dimensions) along the first {n} positions. Right: how alike "
        "two positions' rows are (their dot product): a sine/cosine table makes that depend on the distance alone."
    )
    dims = sorted({0, 1, cfg.d_model // 8, cfg.d_model // 4, cfg.d_model // 2})
    curves = [dict(x=list(range(n)), y=table[:n, j].tolist(), name=f"dimension {j}", mode="lines") for j in dims]
    left, right = st.columns(2)
    left.plotly_chart(line_charts.line_chart(curves, dict(title=dict(text="position")), "value", 360, -0.3), key="pe")
    m = min(len(table), 64)
    sim = position_similarity(table, m).astype(np.float32)
    ticks = [str(i) for i in range(m)]
    with right:
        ui.heatmaps.heatmaps(
            packed.pack([sim], ticks, [f"positions 0–{m - 1}: dot products"], scale="value", name="positions"),
            key="positions",
        )

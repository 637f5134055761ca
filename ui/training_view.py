"""How one training is drawn on the Train page, live or saved: curves, probe heads, reports, mistakes."""

import pandas as pd
import streamlit as st

from attention.training.metrics import reading
from attention.viz import labelled, line_charts, packed, style
from ui.heatmaps import heatmaps
from ui.links import explore_link
from ui.words import md_escape

ss = st.session_state


def memo(key, build, keep=8):
    """This session's figure for `key`, built once: an epoch's figures never change, and redraws must be cheap.

    Only the `keep` most recently used stay (a live run's curves, redrawn all along, among them): a closed tab's
    session lingers on the server for minutes (Streamlit keeps it for a reconnect), and so does what it holds.
    """
    cache = ss.setdefault("_train_memo", {})
    cache[key] = cache.pop(key) if key in cache else build()  # the most recently used last
    while len(cache) > keep:
        cache.pop(next(iter(cache)))
    return cache[key]


def draw_view(v, prefix, source):
    """Curves, probe heads, confusion matrix, per-class table and mistakes of a saved run (`source` names it)."""
    left, right = st.columns(2, gap="large")
    with left:
        draw_curves(v.history, v.steps_per_epoch, v.max_epochs, prefix, source)
    with right:
        draw_probes(v, prefix, source)
    if v.reports:
        draw_reports(v, prefix, source)


def draw_curves(h, steps_per_epoch, max_epochs, prefix, source):
    st.markdown("**Loss and accuracy** (light: train loss per step)")
    fig = memo((source, "curves", max_epochs), lambda: line_charts.curves({}, steps_per_epoch, max_epochs))
    line_charts.update_curves(fig, h, steps_per_epoch)  # one figure per run, its arrays replaced on every redraw
    st.plotly_chart(fig, key=f"{prefix}_curves", config={"displayModeBar": False})


def draw_probes(v, prefix, source):
    """How each head's attention on a fixed probe sentence changed, epoch by epoch."""
    st.markdown("**Heads during training** (fixed probe sentences, recorded after every epoch)")
    if v.frozen or (v.probe_weights and not v.probe_texts):
        st.caption("None to show: MiniLM is frozen, so its heads look the same after every epoch. See them on Explore.")
        return
    if not v.probe_weights:
        st.caption("Not recorded for this run: it was not trained on this page.")
        return
    last = len(v.probe_weights) - 1
    key = f"{prefix}_epoch"
    if ss.get(key) in (None, ss.get(f"_{key}_last")) or ss.get(key, 0) > last:
        ss[key] = last  # follow the newest epoch unless the person moved the slider
    ss[f"_{key}_last"] = last
    c1, c2 = st.columns([3, 2])
    i = c1.selectbox(
        "Probe sentence", range(len(v.probe_texts)), format_func=v.probe_texts.__getitem__, key=f"{prefix}_probe"
    )
    epoch = c2.select_slider("After epoch", list(range(last + 1)), key=key, help="0 = before training.")
    layers = v.probe_weights[epoch][i]
    layer = 0
    if len(layers) > 1:
        one_based = lambda x: f"{x + 1}"  # a label must be a string: an int crashed the page
        layer = (
            st.segmented_control("Layer", range(len(layers)), format_func=one_based, key=f"{prefix}_l", wrap=True) or 0
        )
    w = layers[layer]
    heads = [f"head {h + 1}" for h in range(len(w))]
    message = memo(
        (source, "probe", epoch, i, layer),
        lambda: packed.pack(w, style.axis_labels(v.probe_tokens[i]), heads, wrap=2, name="probe-heads"),
    )
    heatmaps(message, key=f"{prefix}_probes")


def draw_reports(v, prefix, source):
    """Confusion matrix (counts or normalized), per-class table, a plain reading, and the mistakes."""
    splits = list(v.reports)
    c1, c2 = st.columns([2, 3])
    split = c1.segmented_control("Data", splits, default=splits[0], key=f"{prefix}_split") or splits[0]
    normalize = c2.toggle("Normalize rows (share of each true class)", key=f"{prefix}_norm")
    rep = v.reports[split]
    when = f"epoch {v.report_epoch}" if split == "validation" and v.report_epoch else "the kept model"
    st.markdown(f"**{split.capitalize()}, {when}:** accuracy {rep.accuracy:.1%}, macro-F1 {rep.macro_f1:.3f}")
    left, right = st.columns(2, gap="large")
    labels = style.plain_labels(v.classes)
    key = (source, "confusion", split, v.report_epoch, normalize)
    fig = memo(key, lambda: labelled.confusion(rep.confusion, labels, normalize))
    left.plotly_chart(fig, key=f"{prefix}_confusion", config={"displayModeBar": False})
    if len(labels) > labelled.CONFUSION_UP_TO:  # the figure shows the most confused classes: all of them here
        left.caption(f"Every confusion among all {len(labels)} classes, most frequent first.")
        pairs = pd.DataFrame(rep.confusions())
        left.dataframe(pairs, hide_index=True, key=f"{prefix}_confusions", column_config=CONFUSIONS, height=280)
    table = pd.DataFrame(rep.table()).rename(columns={"cls": "class"})
    right.dataframe(table, hide_index=True, key=f"{prefix}_perclass", column_config=PER_CLASS)
    for line in reading(rep):
        (right.warning if "accuracy paradox" in line else right.caption)(md_escape(line))
    draw_mistakes(v, prefix)


PER_CLASS = {k: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")}
CONFUSIONS = {"share": st.column_config.NumberColumn("share of true class", format="%.3f")}


def draw_mistakes(v, prefix):
    if not v.mistakes:
        return
    st.markdown(f"**Misclassified validation texts** ({len(v.mistakes)} shown)")
    df = pd.DataFrame(v.mistakes)
    config = {}
    if v.run_name:
        df["explore"] = [explore_link(v.run_name, t) for t in df["text"]]
        config["explore"] = st.column_config.LinkColumn("Explore", display_text="Open on Explore")
    else:
        st.caption("Links to the Explore page appear once the run is saved.")
    st.dataframe(df, hide_index=True, key=f"{prefix}_mistakes", column_config=config, height=260)

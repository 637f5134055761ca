"""The Heads lab's map of all heads: a scatter of per-head scores on the validation texts, one head's attention on
the texts where it matters most, and groups of heads switched off together."""

import streamlit as st
import torch

import ui
from attention.analysis.heads import TOP, score
from attention.analysis.sentence import analyze
from attention.core.model import head_name
from attention.data.batching import encode
from attention.data.types import Split
from attention.viz import packed, scatter, style


def per_head(rep, cfg, pieces):
    """({score name: one value per head, layer by layer}, [(layer, head)], [role])."""
    L, H = cfg.num_layers, cfg.num_heads
    heads = [(layer, h) for layer in range(L) for h in range(H)]
    rows = {(r["layer"], r["head"]): r for r in rep["rows"]}
    diag = lambda key: [float(rep["diagnostics"][layer][key][h]) for layer, h in heads]
    first, last = (" ([CLS])", " ([SEP])") if pieces else ("", "")
    values = {
        "mean contribution (points of probability)": [100 * rows[k]["contribution"] for k in heads],
        "Δ accuracy when removed (points)": [100 * rows[k]["d_acc"] for k in heads],
        "entropy (nats)": diag("entropy"),
        "share on self": diag("self"),
        "share on the previous token": diag("previous"),
        f"share on the first token{first}": diag("first"),
        f"share on the last token{last}": diag("last"),
    }
    return values, heads, [rep["roles"][layer][h] for layer, h in heads]


@st.cache_data(max_entries=32, show_spinner=False)
def accuracy_without(name, mtime, off, _run, _rep):
    """Validation accuracy on the lab report's texts (already read: the dataset is not loaded again) with the heads
    `off` ((layer, head) pairs) all switched off."""
    data = encode(_run.tokenizer, Split(list(_rep["texts"]), list(_rep["labels"])), _run.model.cfg.max_len)
    mask = torch.ones(_run.model.cfg.num_layers, _run.model.cfg.num_heads)
    for layer, h in off:
        mask[layer, h] = 0
    return score(_run.model, data, mask).accuracy


def head_map(name, run, rep):
    """The scatter, and what follows from a selection: one head's texts, or a group's accuracy."""
    cfg = run.model.cfg
    st.subheader("A map of all heads")
    st.caption(
        "One point per head, coloured by its role; pick what the axes show. Click a head to see it on the texts "
        "where it matters most; draw round several (lasso or box, in the chart's tools) to switch them off together. "
        "Contribution: the probability of the model's own prediction lost when the head alone is removed, averaged "
        "over the validation texts."
    )
    values, heads, roles = per_head(rep, cfg, "encoder" in run.meta)
    names = [head_name(layer, h) for layer, h in heads]
    selected = st.session_state.get("head_map", {}).get("selection", {}).get("points", [])  # the chart's, last run
    picked = sorted({int(p["customdata"]) for p in selected if "customdata" in p})
    c1, c2, c3 = st.columns(3)
    x = c1.selectbox("Across", list(values), index=2, key="map_x")
    y = c2.selectbox("Up", list(values), index=0, key="map_y")
    with c3:  # up here, not at the foot of the page, where its list had no room to open
        off = group_to_switch_off(heads, roles, [heads[i] for i in picked])
    fig = scatter.points(values[x], values[y], names, roles, x, y)
    st.plotly_chart(fig, key="head_map", on_select="rerun", selection_mode=("points", "box", "lasso"))
    if off:
        accuracy_shown(name, run, rep, off)
    if len(picked) == 1:
        one_head(name, run, rep, *heads[picked[0]])


def one_head(name, run, rep, layer, h):
    """One head's attention on the validation texts where removing it costs the prediction most."""
    row = next(r for r in rep["rows"] if (r["layer"], r["head"]) == (layer, h))
    st.markdown(f"**{head_name(layer, h)}**: where it matters most (the {TOP} texts whose prediction loses most)")
    for col, i in zip(st.columns(3), row["top"][:3]):
        text = rep["texts"][int(i)]
        a = analyze(run.model, run.tokenizer, text)
        labels = style.axis_labels(a.tokens)
        title = [f"{head_name(layer, h)} on text {int(i)}"]
        with col:
            ui.heatmaps.heatmaps(
                packed.pack([a.weights[layer][h]], labels, title, name=f"{name}-{title[0]}"), key=f"top{i}"
            )
            st.caption(ui.words.md_escape(text[:200]))
            st.link_button("Open in Explore", ui.links.explore_link(name, text, layer=layer + 1, focus=f"h{h + 1}"))


def group_to_switch_off(heads, roles, picked):
    """The selected heads (two or more), or every head of one role, as chosen: [(layer, head)], or () for none."""
    groups = {f"the {len(picked)} heads selected on the map": picked} if len(picked) > 1 else {}
    for role in dict.fromkeys(roles):
        group = [k for k, r in zip(heads, roles) if r == role]
        groups[f"every '{role}' head ({len(group)})"] = group
    choice = st.selectbox("Switch off together", ["nothing", *groups], key="map_group")
    return () if choice == "nothing" else tuple(groups[choice])


def accuracy_shown(name, run, rep, off):
    """The validation accuracy with the heads `off` switched off, against every head's."""
    with st.spinner(f"Scoring the validation texts without {len(off)} heads…"):
        acc = accuracy_without(name, ui.models.run_mtime(name), off, run, rep)
    full = rep["full"].accuracy
    st.metric(f"Validation accuracy without {len(off)} heads", f"{acc:.1%}", f"{100 * (acc - full):+.1f} points")
    st.caption(
        f"With every head: {full:.1%}, on the same {len(rep['texts']):,} texts. Heads that back each other up can "
        "each look unimportant alone: a group can matter more than its members added up, or less."
    )
    off_names = ",".join(head_name(layer, h) for layer, h in off)
    st.link_button("Open Explore with these heads off", ui.links.explore_link(name, off=off_names))

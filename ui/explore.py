"""Explore's views of a sentence: the model's controls, the prediction, the layer's heads, every head at a glance,
attention across the layers, and the links and downloads."""

import functools

import numpy as np
import streamlit as st

import ui
from attention.analysis.sentence import MAX_CHARS, export_csv, export_json, panels
from attention.analysis.views import layer_means, merge_pieces, rollout, strongest_head, word_groups
from attention.app.results import heads_sentence, load_results
from attention.app.scope import doubts, scope_note
from attention.viz import head_colours, packed, style


def model_controls(name, run):
    """The Heads control (the shipped siblings of this model) and the layer; returns the layer (1-based)."""
    cfg = run.model.cfg
    sib = ui.models.siblings(name)
    if len(sib) > 1:
        st.session_state["heads"] = cfg.num_heads
        st.segmented_control(
            "Heads", list(sib), key="heads", on_change=ui.controls.switch_heads, args=(sib,), wrap=True
        )
        verdict = heads_sentence(load_results(), run.meta.get("dataset"))
        if verdict:
            st.caption(verdict + " (Shipped models, one training seed each.)")
    layer = 1
    if cfg.num_layers > 1:
        layers = list(range(1, cfg.num_layers + 1))
        layer = st.segmented_control("Layer", layers, key="layer", wrap=True, **ui.controls.KEEP) or 1
    st.caption(f"This model was trained with: **{ui.words.trained_masks(cfg)}**.")
    return layer


def prediction(run, now, base):
    """The predicted class, how sure, what the masks changed, every class's probability, unknown words, a cut."""
    md = ui.words.md_escape
    p, why = now.probs[now.pred], doubts(now)
    st.metric("Prediction (uncertain)" if why else "Prediction", md(run.classes[now.pred]))
    st.caption(f"{p:.0%} probability")
    if why:
        st.warning(f"Take this one with care: {'; '.join(why)}.")
    st.caption(md(scope_note(run.meta.get("dataset", "?"), "encoder" in run.meta)))
    if now.masks != base.masks:
        before = md(run.classes[base.pred])
        if base.pred != now.pred:
            st.error(f"Your masks flipped the prediction: without them it is **{before}**.")
        else:
            st.success(f"Same class as without your masks ({before}, {base.probs[base.pred]:.0%}).")
    probabilities(run.classes, now.probs)
    unknown = [t for t, u in zip(now.tokens, now.unknown) if u]
    if unknown:
        st.caption(f"Words the model does not know (read as <unk>, marked ? above): {md(', '.join(unknown))}")
    if cut := ui.words.cut_message(now.truncated, now.cut_chars, run.model.cfg.max_len):
        st.warning(cut)


def heads(name, run, now, base, masks, layer, merge):
    """Every head at a glance (many layers), the layer's grid of heads, and across the layers; returns the focus."""
    cfg = run.model.cfg
    groups, words = word_groups(now.tokens, now.words) if merge else (None, now.tokens)
    shown = (lambda ws: [merge_pieces(w, groups) for w in ws]) if merge else (lambda ws: ws)
    now_w, base_w = shown(now.weights), shown(base.weights)
    labels = style.axis_labels(words if merge else now.tokens)
    if "[CLS]" in now.tokens:
        st.caption(ui.words.SPECIAL_TOKENS)
    if cfg.num_layers > 1:
        overview(now_w, cfg)
    st.subheader(f"Layer {layer}: every head's attention")
    focus_opts = ["all"] + ["avg"] * (cfg.num_heads > 1) + [f"h{h + 1}" for h in range(cfg.num_heads)]
    ui.controls.keep_options("focus", focus_opts, single=True)
    c1, c2 = st.columns([3, 2])
    focus = c1.segmented_control("Show", focus_opts, key="focus", format_func=ui.words.focus_label, wrap=True) or "all"
    view = "weights"
    if now.masks != base.masks:
        view = c2.segmented_control("Colour", ["weights", "difference"], key="view", default="weights") or "weights"
    w = now_w[layer - 1]
    if view == "difference" and len(base_w[layer - 1]) == len(w):
        st.caption("Colour = weight with your masks minus weight without them (red: lost attention, blue: gained).")
    off_here = [h for li, h in masks.removed_heads if li == layer - 1]
    stack, titles, diverging = panels(w, base_w[layer - 1] if view == "difference" else None, focus, off_here)
    scale, wrap = "change" if diverging else "weight", 4 if len(stack) > 1 else 1
    grid = packed.pack(stack, labels, titles, scale=scale, wrap=wrap, name=f"attention-{name}", click=len(stack) > 1)
    ui.heatmaps.heatmaps(grid, key="grid", on_click=functools.partial(enlarge_panel, cfg.num_heads))
    if cfg.num_heads > 1 and st.toggle("All heads at once, one colour each", key="colours"):
        head, weight = strongest_head(w if view == "weights" else now_w[layer - 1])
        st.plotly_chart(head_colours.one_colour_per_head(head, weight, labels, cfg.num_heads), key="colour_map")
        st.caption(
            "Each cell in the colour of the head that attends most from its row's token to its column's, pale when "
            "even that head gives it little: where the heads divide the sentence between them (hover for the weight)."
        )
    if cfg.num_layers > 1:
        across_layers(now.weights, groups if merge else None, labels)
    return focus


def links_and_downloads(name, run, text, now, masks, layer, focus):
    """A link to step through the focused head, the weights as JSON and CSV, and the view written to the URL."""
    step_head = int(focus[1:]) if focus[1:].isdigit() else 1  # "All heads"/"Average": start with head 1
    short = text[:MAX_CHARS]  # what the model read; a link of 50,000 characters fails (HTTP 400)
    link = dict(model=name, text=short, layer=layer, head=step_head, **ui.controls.mask_link(masks))
    st.page_link(
        "pages/inside.py",
        label="Step through this head",
        icon=":material/functions:",
        help=f"Every number of layer {layer}, head {step_head}'s computation, step by step, with these masks.",
        query_params={k: str(v) for k, v in link.items()},
    )
    c1, c2, c3 = st.columns(3)
    # Made when clicked, not on every run: MiniLM's 72 heads at 256 tokens are 4.7 million rows of CSV (14 s a run).
    json_data = functools.partial(export_json, now, run.classes, name, text)
    c1.download_button("Weights as JSON", json_data, f"attention-{name}.json", "application/json", on_click="ignore")
    csv_data = functools.partial(export_csv, now)
    c2.download_button("Weights as CSV", csv_data, f"attention-{name}.csv", "text/csv", on_click="ignore")
    views = {k: "on" if st.session_state.get(k) else "off" for k in ("contrib", "attrib", "patch")}  # "why" views
    corrupt = st.session_state.get("corrupt", "")[:MAX_CHARS] if views["patch"] == "on" else ""
    values = dict(model=name, text=short, layer=layer, focus=focus, corrupt=corrupt, **views)
    values.update(ui.controls.mask_link(masks))
    defaults = dict(model=ui.models.DEFAULT_MODEL, layer=1, focus="all", corrupt="", **dict.fromkeys(views, "off"))
    defaults.update(ui.controls.mask_link_defaults(run.model.cfg))
    ui.links.write_url(values, defaults)
    with c3.popover("Share this view"):
        st.caption("The address bar holds this exact view; copy it, or this link:")
        st.code(ui.links.share_link(), language=None)


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
    message = packed.pack(  # hover says the head, not a value: 16-bit codes, half the bytes of float32
        thumbs,
        cells,
        titles,
        wrap=cfg.num_heads,
        name="attention-all-heads",
        click=True,
        hover="title",
        ticks=False,
        exact=False,
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

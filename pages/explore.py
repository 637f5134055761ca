"""Explore: type a sentence, see the prediction and where every head looks; switch masks and heads."""

import functools

import streamlit as st

import ui
from attention.app.scope import EXAMPLES

ui.frame.ensure_router()


name = ui.frame.sentence_page(
    "explore",
    ui.links.parsers("text", "layer", "pad", "padmask", "causal", "hide", "off", "focus"),
    "Explore attention",
    "Type a sentence: the model classifies it, and each heatmap shows where one attention head looks. "
    "A row is a query token, a column a key token; each row's weights sum to 1.",
)
examples = EXAMPLES.get(ui.models.catalog().get(name, {}).get("dataset"), EXAMPLES["tweets"])
text = st.text_input("Sentence", key="text", placeholder="e.g. " + examples[0])
st.pills("Examples", examples, key="example", on_change=ui.controls.use_example, label_visibility="collapsed")
if not text.strip():
    st.info("Type a sentence above, or click an example.")
    st.stop()

# With a sentence, the model: torch and the rest are imported here, after a first visit's page is on screen.
from attention.analysis.sentence import (  # noqa: E402
    MAX_CHARS,
    Masks,
    analyze,
    export_csv,
    export_json,
    panels,
    resolve,
)
from attention.analysis.views import merge_pieces, word_groups  # noqa: E402
from attention.app.results import heads_sentence, load_results  # noqa: E402
from attention.app.scope import doubts, scope_note  # noqa: E402
from attention.viz import packed, style  # noqa: E402

name, run = ui.frame.sentence_model()
cfg = run.model.cfg

left, right = st.columns([2, 3], gap="large")
with right:
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
        layer = st.segmented_control("Layer", list(range(1, cfg.num_layers + 1)), key="layer", wrap=True) or 1
    st.caption(f"This model was trained with: **{ui.words.trained_masks(cfg)}**.")
    unmasked = functools.cache(lambda pad: analyze(run.model, run.tokenizer, text, Masks(pad_to=pad)))
    masks = ui.controls.masks(cfg, lambda pad: (unmasked(pad).tokens, unmasked(pad).unknown), run.tokenizer.pad_token)
    base = unmasked(masks.pad_to)
    merge = base.words is not None and st.toggle("Show words, not word pieces", key="merge", help=ui.words.MERGE)

# the same masks as without the person's choices (the usual case): the same forward pass, not a second one
now = base if resolve(masks, cfg) == base.masks else analyze(run.model, run.tokenizer, text, masks)
changed = now.masks != base.masks

with left:
    p, why = now.probs[now.pred], doubts(now)
    st.metric("Prediction (uncertain)" if why else "Prediction", ui.words.md_escape(run.classes[now.pred]))
    st.caption(f"{p:.0%} probability")
    if why:
        st.warning(f"Take this one with care: {'; '.join(why)}.")
    st.caption(ui.words.md_escape(scope_note(run.meta.get("dataset", "?"), "encoder" in run.meta)))
    if changed:
        before = run.classes[base.pred]
        if base.pred != now.pred:
            st.error(f"Your masks flipped the prediction: without them it is **{ui.words.md_escape(before)}**.")
        else:
            st.success(f"Same class as without your masks ({ui.words.md_escape(before)}, {base.probs[base.pred]:.0%}).")
    ui.explore.probabilities(run.classes, now.probs)
    unknown = [t for t, u in zip(now.tokens, now.unknown) if u]
    if unknown:
        st.caption(
            f"Words the model does not know (read as <unk>, marked ? above): {ui.words.md_escape(', '.join(unknown))}"
        )
    if cut := ui.words.cut_message(now.truncated, now.cut_chars, cfg.max_len):
        st.warning(cut)

groups, words = word_groups(now.tokens, now.words) if merge else (None, now.tokens)
shown = (lambda ws: [merge_pieces(w, groups) for w in ws]) if merge else (lambda ws: ws)
now_w, base_w = shown(now.weights), shown(base.weights)
labels = style.axis_labels(words if merge else now.tokens)
if "[CLS]" in now.tokens:
    st.caption(ui.words.SPECIAL_TOKENS)
if cfg.num_layers > 1:
    ui.explore.overview(now_w, cfg)

st.subheader(f"Layer {layer}: every head's attention")
focus_opts = ["all"] + ["avg"] * (cfg.num_heads > 1) + [f"h{h + 1}" for h in range(cfg.num_heads)]
ui.controls.keep_options("focus", focus_opts, single=True)
c1, c2 = st.columns([3, 2])
focus = c1.segmented_control("Show", focus_opts, key="focus", format_func=ui.words.focus_label, wrap=True) or "all"
view = "weights"
if changed:
    view = c2.segmented_control("Colour", ["weights", "difference"], key="view", default="weights") or "weights"
w = now_w[layer - 1]
if view == "difference" and len(base_w[layer - 1]) == len(w):
    st.caption("Colour = weight with your masks minus weight without them (red: lost attention, blue: gained).")
off_here = [h for li, h in masks.removed_heads if li == layer - 1]
stack, titles, diverging = panels(w, base_w[layer - 1] if view == "difference" else None, focus, off_here)
scale, wrap = "change" if diverging else "weight", 4 if len(stack) > 1 else 1
grid = packed.pack(stack, labels, titles, scale=scale, wrap=wrap, name=f"attention-{name}", click=len(stack) > 1)
ui.heatmaps.heatmaps(grid, key="grid", on_click=functools.partial(ui.explore.enlarge_panel, cfg.num_heads))
if cfg.num_layers > 1:
    ui.explore.across_layers(now.weights, groups if merge else None, labels)
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
values = dict(model=name, text=short, layer=layer, focus=focus, **ui.controls.mask_link(masks))
defaults = dict(model=ui.models.DEFAULT_MODEL, layer=1, focus="all", **ui.controls.mask_link_defaults(cfg))
ui.links.write_url(values, defaults)
with c3.popover("Share this view"):
    st.caption("The address bar holds this exact view; copy it, or this link:")
    st.code(ui.links.share_link(), language=None)

"""Explore: type a sentence, see the prediction and where every head looks; switch masks and heads."""

import functools

import streamlit as st

import ui

ui.frame.ensure_router()


name = ui.frame.sentence_page(
    "explore",
    ui.links.parsers(
        "text", "layer", "pad", "padmask", "causal", "hide", "off", "focus", "contrib", "attrib", "patch", "corrupt"
    ),
    "Explore attention",
    "Type a sentence: the model classifies it, and each heatmap shows where one attention head looks. "
    "A row is a query token, a column a key token; each row's weights sum to 1.",
)
examples = ui.models.examples(name)
ui.tour.tour(examples[0])


@st.fragment
def sentence_views(name):
    """The sentence and all its views: an Enter, a mask or a click reruns this, not the sidebar around it."""
    if st.session_state["model"] != name:  # the Heads control picked another model: the sidebar must show it
        st.rerun()
    text = ui.frame.sentence_box(examples, "e.g. " + examples[0], "Type a sentence above, or click an example.")
    # With a sentence, the model: torch and the rest are imported here, after a first visit's page is on screen.
    with st.spinner("Loading model…"):
        from attention.analysis.sentence import Masks, analyze, resolve

    name, run = ui.frame.sentence_model()
    cfg = run.model.cfg
    left, right = st.columns([2, 3], gap="large")
    with right:
        layer = ui.explore.model_controls(name, run)
        unmasked = functools.cache(lambda pad: analyze(run.model, run.tokenizer, text, Masks(pad_to=pad)))
        tokens_at = lambda pad: (unmasked(pad).tokens, unmasked(pad).unknown)
        masks = ui.controls.masks(cfg, tokens_at, run.tokenizer.pad_token)
        base = unmasked(masks.pad_to)
        merge = base.words is not None and st.toggle("Show words, not word pieces", key="merge", help=ui.words.MERGE)
    # the same masks as without the person's choices (the usual case): the same forward pass, not a second one
    now = base if resolve(masks, cfg) == base.masks else analyze(run.model, run.tokenizer, text, masks)
    with left:
        ui.explore.prediction(run, now, base)
    focus = ui.explore.heads(name, run, now, base, masks, layer, merge)
    ui.why.contributions(name, run, text, masks)
    ui.why.attributions(name, run, text, masks, now.tokens)
    ui.why.patching(name, run, text, masks)
    ui.explore.links_and_downloads(name, run, text, now, masks, layer, focus)


sentence_views(name)

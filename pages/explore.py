"""Explore: type a sentence, see the prediction and where every head looks; switch masks and heads."""

import streamlit as st

import ui
from attention.analysis.sentence import MAX_CHARS, Masks, analyze, export_csv, export_json, panels
from attention.app.results import heads_sentence, load_results
from attention.app.scope import EXAMPLES, doubts, scope_note
from attention.viz import figures

ui.ensure_router()


ui.read_url_once("explore", ui.parsers("text", "layer", "pad", "padmask", "causal", "hide", "off", "focus"))
name, run = ui.chosen_run()
cfg = run.model.cfg
ui.keep_valid(cfg)

st.title("Explore attention")
st.caption(
    "Type a sentence: the model classifies it, and each heatmap shows where one attention head looks. "
    "A row is a query token, a column a key token; each row's weights sum to 1."
)
ui.show_notices()

examples = EXAMPLES.get(run.meta.get("dataset"), EXAMPLES["tweets"])
text = st.text_input("Sentence", key="text", placeholder="e.g. " + examples[0])
st.pills("Examples", examples, key="example", on_change=ui.use_example, label_visibility="collapsed")
if not text.strip():
    st.info("Type a sentence above, or click an example.")
    st.stop()

left, right = st.columns([2, 3], gap="large")
with right:
    sib = ui.siblings(name)
    if len(sib) > 1:
        st.session_state["heads"] = cfg.num_heads
        st.segmented_control("Heads", list(sib), key="heads", on_change=ui.switch_heads, args=(sib,), wrap=True)
        verdict = heads_sentence(load_results(), run.meta.get("dataset"))
        if verdict:
            st.caption(verdict + " (Shipped models, one training seed each.)")
    layer = 1
    if cfg.num_layers > 1:
        layer = st.segmented_control("Layer", list(range(1, cfg.num_layers + 1)), key="layer", wrap=True) or 1
    st.caption(f"This model was trained with: **{ui.trained_masks(cfg)}**.")
    c1, c2, c3 = st.columns(3)
    pad = c1.slider("Pad to length", 0, cfg.max_len, key="pad", help="Add <pad> tokens up to this length.")
    padmask = c2.toggle("Mask <pad> keys", key="padmask")
    causal = c3.toggle("Causal mask", key="causal", help="Each token may look only at itself and earlier tokens.")
    try:
        base = analyze(run.model, run.tokenizer, text, Masks(pad_to=pad))
    except ValueError as e:
        st.info(str(e))
        st.stop()
    positions = list(range(len(base.tokens)))
    ui.keep_options("hide", positions)
    hide = st.pills(
        "Hide tokens (no query may attend to them)",
        positions,
        format_func=lambda i: ui.md_escape(f"{base.tokens[i]}{' ?' * base.unknown[i]}"),
        selection_mode="multi",
        key="hide",
        wrap=True,  # in a column a row of options scrolls sideways, hiding most of them
    )
    head_names = [f"L{li + 1}H{h + 1}" for li in range(cfg.num_layers) for h in range(cfg.num_heads)]
    ui.keep_options("off", head_names)
    off = st.pills("Switch heads off", head_names, selection_mode="multi", key="off", wrap=True)

masks = Masks(pad, padmask, causal, tuple(hide), tuple(ui.head_pairs(off)))
now = analyze(run.model, run.tokenizer, text, masks)
changed = now.masks != base.masks

with left:
    p, why = now.probs[now.pred], doubts(now)
    st.metric("Prediction (uncertain)" if why else "Prediction", ui.md_escape(run.classes[now.pred]))
    st.caption(f"{p:.0%} probability")
    if why:
        st.warning(f"Take this one with care: {'; '.join(why)}.")
    st.caption(ui.md_escape(scope_note(run.meta.get("dataset", "?"))))
    if changed:
        before = run.classes[base.pred]
        if base.pred != now.pred:
            st.error(f"Your masks flipped the prediction: without them it is **{ui.md_escape(before)}**.")
        else:
            st.success(f"Same class as without your masks ({ui.md_escape(before)}, {base.probs[base.pred]:.0%}).")
    st.plotly_chart(figures.probabilities(run.classes, now.probs), key="probs", config={"displayModeBar": False})
    unknown = [t for t, u in zip(now.tokens, now.unknown) if u]
    if unknown:
        st.caption(f"Words the model does not know (read as <unk>, marked ? above): {ui.md_escape(', '.join(unknown))}")
    if cut := ui.cut_message(now.truncated, now.cut_chars, cfg.max_len):
        st.warning(cut)

st.subheader(f"Layer {layer}: every head's attention")
focus_opts = ["all"] + ["avg"] * (cfg.num_heads > 1) + [f"h{h + 1}" for h in range(cfg.num_heads)]
ui.keep_options("focus", focus_opts, single=True)
c1, c2 = st.columns([3, 2])
focus = c1.segmented_control("Show", focus_opts, key="focus", format_func=ui.focus_label, wrap=True) or "all"
view = "weights"
if changed:
    view = c2.segmented_control("Colour", ["weights", "difference"], key="view", default="weights") or "weights"
w = now.weights[layer - 1]
if view == "difference" and len(base.weights[layer - 1]) == len(w):
    st.caption("Colour = weight with your masks minus weight without them (red: lost attention, blue: gained).")
off_here = [h for li, h in ui.head_pairs(off) if li == layer - 1]
stack, titles, diverging = panels(w, base.weights[layer - 1] if view == "difference" else None, focus, off_here)
fig = figures.attention_grid(stack, now.tokens, titles, cols=4 if len(stack) > 1 else 1, diverging=diverging)
st.plotly_chart(fig, key="grid", config={"toImageButtonOptions": {"filename": f"attention-{name}"}})
step_head = int(focus[1:]) if focus[1:].isdigit() else 1  # "All heads"/"Average": start with head 1
short = text[:MAX_CHARS]  # what the model read; a link of 50,000 characters fails (HTTP 400)
link = dict(
    model=name, text=short, layer=layer, head=step_head, pad=pad, hide=",".join(map(str, hide)), off=",".join(off)
)
link.update(padmask="on" if padmask else "off", causal="on" if causal else "off")
st.page_link(
    "pages/inside.py",
    label="Step through this head",
    icon=":material/functions:",
    help=f"Every number of layer {layer}, head {step_head}'s computation, step by step, with these masks.",
    query_params={k: str(v) for k, v in link.items()},
)

c1, c2, c3 = st.columns(3)
json_data = export_json(now, run.classes, name, text)
c1.download_button("Weights as JSON", json_data, f"attention-{name}.json", "application/json")
c2.download_button("Weights as CSV", export_csv(now), f"attention-{name}.csv", "text/csv")
values = dict(model=name, text=short, layer=layer, pad=pad, focus=focus)
values.update(hide=",".join(map(str, hide)), off=",".join(off))
values.update(padmask="on" if padmask else "off", causal="on" if causal else "off")
defaults = dict(model=ui.DEFAULT_MODEL, layer=1, pad=0, hide="", off="", focus="all")
defaults.update(padmask="on" if cfg.pad_mask else "off", causal="on" if cfg.causal else "off")
ui.write_url(values, defaults)
with c3.popover("Share this view"):
    st.caption("The address bar holds this exact view; copy it, or this link:")
    st.code(ui.share_link(), language=None)

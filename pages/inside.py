"""Inside a head: one head's arithmetic stage by stage, then how every head makes the layer's output."""

import functools
from dataclasses import replace

import streamlit as st

import ui
from attention.viz import packed, style

ui.frame.ensure_router()


PARSERS = ui.links.parsers("text", "layer", "head", "pad", "padmask", "causal", "hide", "off", "row", "nopos")
ss = st.session_state


def arrive():
    """On arriving (by a link or from another page), keep the values Streamlit drops on a page change."""
    if st.query_params.to_dict() == ss.get("_inside_url"):
        return  # a rerun of this page
    kept = ss.get("_inside_keep", {})
    for key in PARSERS:  # this page's own choices on the last visit, unless Explore left a value (ui.controls.SHARED)
        if key in kept and not (key in ui.controls.SHARED and key in ss):
            ss[key] = kept[key]
    ss.pop("_url_read_inside", None)  # then read the link's parameters, which override both


arrive()
ss["_inside_url"] = st.query_params.to_dict()  # seen (updated again once the view is written to the URL)
name = ui.frame.sentence_page(
    "inside",
    PARSERS,
    "Inside a head",
    "One sentence through one attention head, number by number: from the input vectors to the head's output, "
    "then how every head's output makes the layer's output. Hover any cell for its exact value.",
)
text = ui.frame.sentence_box(
    ui.models.examples(name),
    "e.g. the flight was late",
    "Type a sentence above, or click an example. A short one is the easiest to follow by hand.",
)
# With a sentence, the model: torch and the rest are imported here, after a first visit's page is on screen.
with st.spinner("Loading model…"):
    from attention.analysis.sentence import MAX_CHARS
    from attention.analysis.stages import positions_table, token_labels, trace, worked_row
    from attention.app.stage_tables import follow_table, pipeline, worked_table
name, run = ui.frame.sentence_model()
cfg = run.model.cfg

cols = st.columns([1, 2, 2] if cfg.num_layers > 1 else [2, 2])
layer = 1
if cfg.num_layers > 1:
    layers = list(range(1, cfg.num_layers + 1))
    layer = cols[-3].segmented_control("Layer", layers, key="layer", wrap=True, **ui.controls.KEEP) or 1
ui.controls.keep_options("head", list(range(1, cfg.num_heads + 1)), single=True)
ss.setdefault("head", 1)
head = cols[-2].segmented_control("Head", list(range(1, cfg.num_heads + 1)), key="head", wrap=True) or 1
nopos = cols[-1].toggle("Remove positional encoding", key="nopos", disabled=cfg.positional == "none")
tokens_at = functools.cache(lambda pad: token_labels(run.model, run.tokenizer, text, pad))
masks = replace(ui.controls.masks(cfg, tokens_at, run.tokenizer.pad_token), positional=not nopos)
positions = list(range(len(tokens_at(masks.pad_to)[0])))
ui.controls.keep_options("row", positions, single=True)
ss.setdefault("row", 0)

t = trace(run.model, run.tokenizer, text, masks, layer - 1, head - 1)

T, D = t.x.shape
dk, H = t.d_k, t.num_heads
rows = style.axis_labels(t.tokens)
dims, hdims = [f"d{j}" for j in range(D)], [f"d{j}" for j in range(dk)]
chart = lambda key, *args, **kw: ui.heatmaps.heatmaps(packed.pack(*args, name=f"inside-{key}", **kw), key=key)
p = t.probs.argmax()
st.caption(f"Prediction for this sentence: **{ui.words.md_escape(run.classes[p])}** ({t.probs[p]:.0%}).")
if cut := ui.words.cut_message(t.truncated, t.cut_chars, cfg.max_len):
    st.warning(cut)

st.header(f"1 · The input to layer {layer}: X ({T} × {D})")
norm = "LayerNorm of the sum" if t.embed_norm else "sum"
if t.embedding is not None and t.position is not None:
    st.markdown(
        f"Each token is a row of {D} numbers: its learned **embedding** plus the **{t.positional} positional "
        f"encoding** of its place in the sentence. The {norm}, X, is what attention works on."
        + (" (As in BERT, the embedding includes the token-type embedding of a first sentence.)" * t.embed_norm)
    )
    mats = [t.embedding, t.position, t.x]
    titles = ["token embedding", "+ positional encoding", f"= X ({T} × {D})" + "<br>after LayerNorm" * t.embed_norm]
elif t.embedding is not None:
    why = "positional encoding removed above" if nopos else "this model adds no positional encoding"
    x_is = "LayerNorm(embedding)" if t.embed_norm else "embedding"
    st.markdown(f"Each token is a row of {D} numbers, its learned **embedding** ({why}): X = {x_is}.")
    mats, titles = [t.x], [f"X ({T} × {D})"]
else:
    st.markdown(f"Layer {layer}'s input is layer {layer - 1}'s output, after its Add & Norm: LayerNorm(X + attention).")
    mats, titles = [t.x], [f"X ({T} × {D})"]
st.caption(
    "Tokens and their rows in the embedding table: "
    + " · ".join(ui.words.md_escape(f"{r} → {i}") for r, i in zip(rows, t.ids))
)
chart("input", mats, rows, titles, [dims] * len(mats), scale="value")

st.header(f"2 · Queries, keys and values of head {head} ({T} × {dk} each)")
st.markdown(
    f"Q = X·W_q + b_q, and likewise K and V. W_q is this head's {D} × {dk} block: columns "
    f"{(head - 1) * dk}–{head * dk - 1} of `q_proj.weight.T` (PyTorch's Linear computes x·Wᵀ + b). "
    "**The biases are included.** Row i of Q is token i's query; row j of K is what token j offers to be matched on."
)
qkv_titles = [f"{n} = X·W_{n.lower()} + b_{n.lower()}<br>({T} × {dk})" for n in "QKV"]
chart("qkv", [t.q, t.k, t.v], rows, qkv_titles, [hdims] * 3, scale="value")
# drawn only when asked: folded in an expander they were still sent and drawn on every head switch
if st.toggle(f"Show this head's weights W_q, W_k, W_v ({D} × {dk}) and biases ({dk})", key="show_w"):
    w_titles = [f"W_q ({D} × {dk})", f"W_k ({D} × {dk})", f"W_v ({D} × {dk})"]
    chart("w_qkv", [t.w_q, t.w_k, t.w_v], dims, w_titles, [hdims] * 3, scale="value", height=520)
    chart("b_qkv", [[t.b_q, t.b_k, t.b_v]], ["b_q", "b_k", "b_v"], ["biases"], [hdims], scale="value")

st.header(f"3 · Scores ({T} × {T})")
st.markdown(
    f"Each query row times each key row: Q·Kᵀ. Row i, column j says how well token i's query matches token j's "
    f"key. Dividing by √d_k = √{dk} = {dk**0.5:.3g} keeps the scores from growing with d_k."
)
score_titles = [f"Q·Kᵀ ({T} × {T})", f"Q·Kᵀ / √{dk} ({T} × {T})"]
chart("scores", [t.scores, t.scaled], rows, score_titles, scale="value")

st.header("4 · Masks")
if t.mask_steps:
    st.markdown(
        "A masked cell (hatched, blank) may not be attended to: before the softmax its score is replaced by the "
        "smallest float32 number, so its weight comes out as exactly 0. The masks add up, left to right."
    )
    mask_titles = [f"after the {m.name} mask<br>({T} × {T})" for m in t.mask_steps]
    steps = t.mask_steps
    chart("masks", [t.scaled] * len(steps), rows, mask_titles, masked=[m.total for m in steps], scale="value")
else:
    st.markdown("No mask is on: every query may attend to every key. Switch one on above to see it here.")

st.header(f"5 · Softmax: weights ({T} × {T})")
st.markdown(
    "Each row of masked, scaled scores becomes weights: exponentiate, then divide by the row's sum. "
    "Every row sums to 1 (right-hand column), unless all its keys are masked: then it attends to nothing (0)."
)
weight_titles = [f"weights ({T} × {T})", f"row sums ({T} × 1)"]
chart("weights", [t.weights, t.row_sums], rows, weight_titles, [rows, ["Σ"]], masked=[t.mask, None])
st.subheader("A worked row")
row = st.columns(3)[0].selectbox("Query token", positions, format_func=lambda i: rows[i], key="row")
w = worked_row(t, row)
st.markdown(
    f"Query **{ui.words.md_escape(rows[row])}**, row {row} of the scaled, masked scores. We subtract the row's largest "
    "unmasked score before exp() (the weights do not change; it keeps exp() from overflowing). "
    "weight = exp(s − max) / sum."
)
if w.masked.all():
    st.info("Every key is masked for this query: it attends to nothing, so all its weights are 0.")
else:
    table = worked_table(w, t.tokens)
    st.table([dict(r, key=ui.words.md_escape(r["key"])) for r in table], hide_index=True)
    st.caption(f"max = {w.top:.4f} · sum = {w.total:.4f} · each weight = exp(s − max) / {w.total:.4f}")

st.header(f"6 · Weighted values: head {head}'s output ({T} × {dk})")
if t.removed:
    st.warning(f"Head {head} of layer {layer} is switched off: its output is replaced by zeros.")
st.markdown(
    f"Each query's output is the weighted sum of the value rows: weights·V ({T} × {T} · {T} × {dk}). "
    f"Through the output projection this head adds (weights·V)·W_o[rows {(head - 1) * dk}–{head * dk - 1}] "
    f"to the layer's output ({T} × {D}): the output is every head's share added up, plus b_o."
)
out_titles = [f"weights·V ({T} × {dk})", f"head {head}'s share of the output ({T} × {D})"]
chart("head_out", [t.head_out, t.share], rows, out_titles, [hdims, dims], scale="value")

st.header("7 · All heads together")
st.markdown(
    f"Every head does the same with its own W_q, W_k, W_v. Their outputs sit side by side ({H} × {dk} = {D} "
    f"columns), and the output projection W_o ({D} × {D}) mixes them. The table follows "
    f"**{ui.words.md_escape(rows[row])}** (the worked row's token) through the layer."
)
boxes = pipeline(t, row)
md = ui.words.md_escape
for n, (col, box) in enumerate(zip(st.columns(len(boxes)), boxes)):  # the stages as boxes, left to right
    col.container(border=True).markdown(f"{'→ ' * bool(n)}**{md(box.name)}**  \n{md(box.formula)}  \n*{md(box.shape)}*")
st.table(follow_table(boxes), hide_index=True)
cat_cols = [f"h{h + 1}·d{j}" for h in range(H) for j in range(dk)]
cat_titles = [f"concatenated heads ({T} × {D})", f"concat·W_o + b_o ({T} × {D})"]
chart("concat", [t.concat, t.output], rows, cat_titles, [cat_cols, dims], scale="value")
ui.inside.what_each_head_adds(name, run, text, masks, t, layer)

st.header("8 · Positional encoding")
table = positions_table(run.model)
if table is None:
    st.markdown(ui.words.NO_POSITIONS)
else:
    what = "the sine/cosine table from *Attention Is All You Need*" if cfg.positional == "sinusoidal" else "learned"
    st.markdown(
        f"Row p (position) is added to the embedding of the token at position p; columns are the {D} dimensions "
        f"({what}; {cfg.max_len} × {D}). Shown: the {T} rows this sentence uses."
    )
    # the whole table only when asked: MiniLM's is 512 x 384 (786 KB), sent again on every head switch
    n = len(table) if st.toggle(f"Show all {len(table)} positions", key="pe_all") else T
    pe_title = [f"positional encoding, positions 0–{n - 1} ({n} × {D})"]
    pos_rows = [str(i) for i in range(n)]
    chart("pe", [table[:n]], pos_rows, pe_title, [dims], scale="value", height=420 if n > 40 else None)
    flip_probs, flip_layer = ui.inside.other_positions(name, run, text, replace(masks, positional=nopos), layer)
    both = [t.weights, flip_layer[head - 1]]
    names = ["with positional encoding", "without"] if not nopos else ["without positional encoding", "with"]
    names = [f"{n} ({T} × {T})" for n in names]
    st.markdown(
        f"Head {head}'s weights with the sentence run {'without' if nopos else 'with'} positions (as above) "
        f"and {'with' if nopos else 'without'} them. Without positions, attention cannot tell word order: "
        "the same word gets the same query and key wherever it stands."
    )
    chart("pe_compare", both, rows, names, wrap=2)
    q, other = int(flip_probs.argmax()), "with" if nopos else "without"
    st.caption(f"Prediction {other} positions: **{ui.words.md_escape(run.classes[q])}** ({flip_probs[q]:.0%}).")

values = dict(model=name, text=text[:MAX_CHARS], layer=layer, head=head, row=row)  # the part the model read
values.update(nopos="on" if nopos else "off", **ui.controls.mask_link(masks))
defaults = dict(
    model=ui.models.DEFAULT_MODEL, layer=1, head=1, row=0, nopos="off", **ui.controls.mask_link_defaults(cfg)
)
ui.links.write_url(values, defaults)
ss["_inside_url"] = st.query_params.to_dict()
ss["_inside_keep"] = {k: ss[k] for k in PARSERS if k in ss}

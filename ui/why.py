"""Why this prediction (Explore): which heads made it (each switched off in turn); which tokens, by attention
rollout, gradient-weighted rollout and integrated gradients side by side; and which pieces carry the difference
from another sentence (patching)."""

import functools

import streamlit as st

import ui
from attention.analysis.attribution import IG_TOLERANCE, attribute
from attention.analysis.contribution import head_contributions
from attention.analysis.patching import patch
from attention.core.model import head_name
from attention.viz import bar_charts, packed, style

CONTRIB_TOP = 16  # bars shown: MiniLM has 72 heads, the grid beside them shows every one
ANALYSES = dict(heads=head_contributions, tokens=attribute, patching=patch)


@st.cache_data(max_entries=96, show_spinner=False)
def _cached(kind, name, mtime, args, _run):
    """ANALYSES[kind](model, tokenizer, *args), cached by model (its name and the time its weights were saved),
    sentence(s) and masks."""
    return ANALYSES[kind](_run.model, _run.tokenizer, *args)


def analysis(kind, name, run, *args):
    with st.spinner("Computing…"):
        return _cached(kind, name, ui.models.run_mtime(name), args, run)


def contributions(name, run, text, masks):
    """Which heads made this prediction: the predicted class's probability lost when each head alone is switched
    off (on top of the person's masks), as sorted bars and a layer x head grid; a click on a bar acts on its head."""
    st.subheader("Which heads made this prediction?")
    if not st.toggle("Switch each head off in turn and see what the prediction loses", key="contrib"):
        st.caption("Attention shows where a head looks, not whether what it found mattered: this answers the second.")
        return
    c = analysis("heads", name, run, text, masks)
    cfg, md = run.model.cfg, ui.words.md_escape
    st.caption(
        f"For **{md(run.classes[c.cls])}** ({c.prob:.1%} with your masks): how many points of probability it loses "
        "when one more head is switched off, all else as it is. Positive: the head supported this prediction; "
        "negative: it argued against it; 0: switched off already, or no effect. One head at a time misses what "
        "heads do together (two that back each other up each look unimportant), and a large effect says the head "
        "mattered for this sentence, not what it computed."
    )
    ranked = c.ranked(CONTRIB_TOP)
    labels = [head_name(layer, h) for layer, h, *_ in ranked]
    left, right = st.columns([3, 2] if cfg.num_layers > 1 else [1, 1])
    acts = ["shows the head", "switches it off"]
    act = left.segmented_control("A click on a bar", acts, key="contrib_click", default=acts[0])
    text = [f"{dp:+.1%} · logit {dl:+.2f}" for *_, dp, dl in ranked]
    fig = bar_charts.bars(labels, [100 * dp for *_, dp, _ in ranked], "probability lost (points)", text=text)
    pick = functools.partial(_act_on_head, [(layer, h) for layer, h, *_ in ranked], act or acts[0])
    left.plotly_chart(fig, key="contrib_bars", on_select=pick, selection_mode="points")
    hidden = len(c.d_prob.flat) - len(ranked)
    if hidden:
        left.caption(f"The {len(ranked)} heads with the largest effect; the grid shows all {len(c.d_prob.flat)}.")
    if cfg.num_layers > 1:
        rows, cols = [f"L{i + 1}" for i in range(cfg.num_layers)], [f"H{h + 1}" for h in range(cfg.num_heads)]
        title = ["probability lost (points)"]
        grid = packed.pack([100 * c.d_prob], rows, title, [cols], scale="value", name=f"contributions-{name}")
        with right:
            ui.heatmaps.heatmaps(grid, key="contrib_grid")


def _act_on_head(heads, act):
    """The clicked bar's head: shown alone in the layer's grid, or added to the heads switched off."""
    points = st.session_state["contrib_bars"]["selection"]["points"]
    if not points:
        return
    layer, head = heads[points[0]["point_index"]]
    if act == "switches it off":
        off = st.session_state.get("off", [])
        st.session_state["off"] = [*off, head_name(layer, head)] if head_name(layer, head) not in off else off
    else:
        st.session_state["layer"], st.session_state["focus"] = layer + 1, f"h{head + 1}"


def attributions(name, run, text, masks, tokens):
    """Which tokens made this prediction: attention rollout, gradient-weighted rollout and integrated gradients,
    per token side by side, with what each measures; `tokens` as the model saw them (the rows' labels)."""
    st.subheader("Which tokens made it? Three answers that often disagree")
    if not st.toggle("Compare attention rollout, gradient-weighted rollout and integrated gradients", key="attrib"):
        st.caption("Attention weights alone are not an explanation: three attribution methods, on this sentence.")
        return
    a = analysis("tokens", name, run, text, masks)
    md = ui.words.md_escape
    st.markdown(
        f"For **{md(run.classes[a.cls])}**, per token:\n"
        "- **Attention rollout** (Abnar & Zuidema 2020): how much of each token reaches the output, following the "
        "attention weights (and residual paths) alone, whatever they do to the prediction. Shares of 1.\n"
        "- **Gradient-weighted rollout** (Chefer et al. 2021): the same, keeping only attention that raised this "
        "class's logit (weight × gradient, negatives dropped). Shares of 1.\n"
        f"- **Integrated gradients** (Sundararajan et al. 2017, with Captum): how the class's logit moves as each "
        f"token's embedding goes from the baseline ({md(a.baseline)}) to the real one, ignoring attention. Signed "
        "(red: against this class); in logits, and they add up to the logit minus the baseline's."
    )
    labels = style.axis_labels(tokens)
    shares = [a.rollout[None], a.grad_rollout[None]]
    titles = ["attention rollout", "gradient-weighted rollout"]
    ui.heatmaps.heatmaps(
        packed.pack(shares, ["share"], titles, [labels] * 2, scale="value", wrap=1, name=f"rollouts-{name}"),
        key="rollouts",
    )
    ig = packed.pack(
        [a.ig[None]], ["logit"], ["integrated gradients"], [labels], scale="value", wrap=1, name=f"ig-{name}"
    )
    ui.heatmaps.heatmaps(ig, key="ig")
    gap = a.logit - a.baseline_logit
    held = a.ig_error <= IG_TOLERANCE * abs(gap)
    st.caption(
        f"Integrated gradients: {a.steps} steps; the attributions sum to {a.ig.sum():+.3f}, the logit minus the "
        f"baseline's is {gap:+.3f} (off by {a.ig_error:.1e}"
        + (": within 1%, as the method promises). " if held else ": more than 1% even so; read them with care). ")
        + "Where the three disagree, none is the truth: each answers its own question."
    )


def patching(name, run, text, masks):
    """Patching from this sentence (clean) into another (corrupted) of as many tokens: per head and per layer and
    position, how much of the clean prediction each piece brings back."""
    st.subheader("Which pieces carry the difference? Patching from another sentence")
    if not st.toggle("Run another sentence with pieces of this one", key="patch"):
        st.caption("Change a word (good → bad) and find which heads and positions carry the change.")
        return
    corrupt = st.text_input(
        "Corrupted sentence (as many tokens as this one)",
        key="corrupt",
        placeholder="e.g. this sentence, one word changed",
    )
    if not corrupt.strip():
        st.info("Type a second sentence: the same words with one changed, say.")
        return
    try:
        p = analysis("patching", name, run, text, corrupt, masks)
    except ValueError as e:
        st.warning(str(e))
        return
    md = ui.words.md_escape
    swaps = ", ".join(f"{a} → {b}" for a, b in zip(p.clean_tokens, p.corrupt_tokens) if a != b) or "none"
    st.caption(
        f"This sentence gives **{md(run.classes[p.cls])}** {p.p_clean:.1%}; the corrupted one gives it "
        f"{p.p_corrupt:.1%}. Each cell: the corrupted sentence run again with one piece taken from this one, and the "
        "share of the gap in that class's log-odds it closes (1: all of it, 0: none; red: the wrong way). "
        f"Tokens that differ: {md(swaps)}."
    )
    if swaps == "none":
        st.info("The two sentences are the same to the model: there is nothing to restore.")
        return
    cfg = run.model.cfg
    layers = [f"L{i + 1}" for i in range(cfg.num_layers)]
    left, right = st.columns([2, 3])
    heads = [f"H{h + 1}" for h in range(cfg.num_heads)]
    with left:
        title = ["one head's output from this sentence"]
        ui.heatmaps.heatmaps(
            packed.pack([p.heads], layers, title, [heads], scale="change", name=f"patch-heads-{name}"),
            key="patch_heads",
        )
    with right:
        cols = [style.axis_labels(p.clean_tokens)]
        title = ["the residual stream into the layer, at one position"]
        ui.heatmaps.heatmaps(
            packed.pack([p.residual], layers, title, cols, scale="change", name=f"patch-residual-{name}"),
            key="patch_residual",
        )
    st.caption(
        "A head patched alone shows what that head carries of the difference; heads that share the work each show "
        "part of it. The residual grid follows the changed word's information from its own position (first "
        "layer) to the positions the prediction reads (last layer)."
    )

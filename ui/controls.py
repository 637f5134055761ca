"""Widget state that outlives a page: shared settings, values a model cannot show, callbacks."""

import contextlib

import streamlit as st

from ui.links import notices
from ui.words import head_pairs, md_escape

LONG_LIST = 24  # more options than this fold into an expander
# Settings Explore and Inside a head share. Their widgets take **KEEP: Streamlit drops a widget's value when the
# page that drew it is left, unless it is kept for the session.
SHARED = ("text", "layer", "pad", "padmask", "causal", "hide", "off")
KEEP = dict(persist_state="session")


def keep_valid(cfg):
    """Give mask toggles the model's trained defaults and drop URL values this model cannot show."""
    ss = st.session_state
    ss.setdefault("padmask", cfg.pad_mask)
    ss.setdefault("causal", cfg.causal)
    for key, top in (("pad", cfg.max_len), ("layer", cfg.num_layers)):
        low = 0 if key == "pad" else 1
        if key in ss and not (isinstance(ss[key], int) and low <= ss[key] <= top):
            notices().append(f"{key} must be between {low} and {top} for this model; using {low}.")
            ss[key] = low


def keep_options(key, options, single=False):
    """Drop selections that are no longer options (the sentence or model changed)."""
    ss = st.session_state
    if key not in ss or ss[key] is None:
        return
    if single:
        if ss[key] not in options:
            ss[key] = options[0]
    elif any(v not in options for v in ss[key]):
        ss[key] = [v for v in ss[key] if v in options]


def use_example():
    """Callback: copy the clicked example into the sentence box."""
    if st.session_state.get("example"):
        st.session_state["text"] = st.session_state["example"]
    st.session_state["example"] = None


def switch_heads(siblings):
    """Callback: the Heads control picks the shipped model with that many heads."""
    heads = st.session_state.get("heads")
    if heads in siblings:
        st.session_state["model"] = siblings[heads]
        for key in ("off", "layer"):  # head and layer choices belong to the old model
            st.session_state.pop(key, None)


def masks(cfg, tokens_at, pad_token="<pad>"):
    """The mask controls Explore and Inside a head share; returns the chosen Masks.

    tokens_at(pad) -> (tokens, unknown) of the sentence padded to `pad`, to offer as tokens to hide; a ValueError
    from it (a sentence with no tokens) is shown and stops the page. pad_token: the model's ("[PAD]" for MiniLM).
    """
    from attention.analysis.sentence import Masks
    from attention.core.model import head_names

    c1, c2, c3 = st.columns(3)
    pad = c1.slider(
        "Pad to length", 0, cfg.max_len, key="pad", help=f"Add {pad_token} tokens up to this length.", **KEEP
    )
    padmask = c2.toggle(f"Mask {pad_token} keys", key="padmask", **KEEP)
    causal = c3.toggle(
        "Causal mask", key="causal", help="Each token may look only at itself and earlier tokens.", **KEEP
    )
    try:
        tokens, unknown = tokens_at(pad)
    except ValueError as e:
        st.info(str(e))
        st.stop()
    positions = list(range(len(tokens)))
    keep_options("hide", positions)
    with fold("Hide tokens", "hide", len(positions)):
        hide = st.pills(
            "Hide tokens (no query may attend to them)",
            positions,
            format_func=lambda i: md_escape(f"{tokens[i]}{' ?' * unknown[i]}"),
            **KEEP,
            selection_mode="multi",
            key="hide",
            wrap=True,  # in a column a row of options scrolls sideways, hiding most of them
        )
    names = head_names(cfg)
    keep_options("off", names)
    with fold("Switch heads off", "off", len(names)):
        off = st.pills("Switch heads off", names, selection_mode="multi", key="off", wrap=True, **KEEP)
    return Masks(pad, padmask, causal, tuple(hide), tuple(head_pairs(off)))


def fold(title, key, n):
    """A long list of options (a paragraph's tokens, MiniLM's 72 heads) folded away, saying how many are chosen,
    so the controls after it stay on screen; a short one as it is."""
    if n <= LONG_LIST:
        return contextlib.nullcontext()
    return st.expander(f"{title}: {len(st.session_state.get(key) or [])} of {n} chosen")


def mask_link(masks):
    """The masks as link parameters (URL_PARSERS reads them back)."""
    from attention.core.model import head_name

    off = ",".join(head_name(layer, h) for layer, h in masks.removed_heads)
    flag = lambda on: "on" if on else "off"
    return dict(
        pad=masks.pad_to,
        padmask=flag(masks.pad_mask),
        causal=flag(masks.causal),
        hide=",".join(map(str, masks.hidden)),
        off=off,
    )


def mask_link_defaults(cfg):
    """What mask_link gives for a model's own settings: left out of a shared link."""
    from attention.analysis.sentence import Masks

    return mask_link(Masks(pad_mask=cfg.pad_mask, causal=cfg.causal))

"""A first visit's tour of Explore: six steps, each pointing at one part of the page with one sentence of what to
notice. Skippable; once finished or skipped, a cookie remembers it for a year, and the sidebar can start it again."""

import json

import streamlit as st

COOKIE = "attention_tour"
CARD_CSS = """.st-key-tour { position: fixed; bottom: 16px; right: 16px; width: min(440px, calc(100vw - 32px));
  z-index: 999; background: white; box-shadow: 0 4px 24px rgba(0, 0, 0, 0.18); }"""
YEAR = 365 * 24 * 3600
# (what to point at: a CSS selector on Explore, what to notice there)
STEPS = [
    (
        ".st-key-text",
        "The model reads the sentence in this box: an example to start with. Type your own and press "
        "Enter, or click another example under it; the model says what it thinks, with every class's probability.",
    ),  # fmt: skip
    (
        ".st-key-grid",
        "Each heatmap is one attention head. A row is a token asking (the query), a column a token "
        "answering (the key); a dark cell means the row's token takes a lot from the column's. Every row adds up to "
        "1. Hover a cell for its exact weight.",
    ),  # fmt: skip
    (
        ".st-key-focus",
        "Show one head alone, or their average. Heads of the same layer read the same sentence and "
        "still look at different words: that is what several heads are for.",
    ),  # fmt: skip
    (
        ".st-key-causal",
        "Masks change the computation, not just the picture: with the causal mask on, each token "
        "may only look at itself and the tokens before it. Watch the grid and the prediction change.",
    ),  # fmt: skip
    (
        ".st-key-contrib",
        "Where a head looks is not whether it mattered: this switches each head off in turn and "
        "shows what the prediction loses.",
    ),  # fmt: skip
    (
        "[data-testid='stPageLink']",
        "Step through one head: Inside a head shows every number of its computation, "
        "from the input vectors to its share of the output. The Glossary in the sidebar explains the words.",
    ),  # fmt: skip
]


def tour(example):
    """The tour's card and its highlight, when it is running; starts by itself on a first visit. `example`: the
    sentence to fill in when the tour moves past the sentence box with nothing typed."""
    ss = st.session_state
    remember()
    if "tour_step" not in ss:
        ss["tour_step"] = None if st.context.cookies.get(COOKIE) == "done" else 0
    st.sidebar.button("Take the tour", key="tour_start", on_click=_go, args=(0,), help="Six steps on this page.")
    step = ss["tour_step"]
    if step is None:
        return
    target, text = STEPS[step]
    with st.container(border=True, key="tour"):
        st.markdown(f"**Tour · {step + 1} of {len(STEPS)}** · {text}")
        c1, c2, c3 = st.columns(3)
        if step:
            c1.button("Back", key="tour_back", on_click=_go, args=(step - 1,))
        last = step == len(STEPS) - 1
        c2.button("Done" if last else "Next", key="tour_next", on_click=_go, args=(None if last else step + 1, example))
        if not last:
            c3.button("Skip the tour", key="tour_skip", on_click=_go, args=(None,))
    # the card floats at the foot of the window; the step's element is outlined and scrolled to (once drawn)
    st.html(f"<style>{CARD_CSS} {target} {{ outline: 3px solid #ff4b4b; outline-offset: 4px; }}</style>")
    find = f"document.querySelector({json.dumps(target)})"
    scroll = f"(function go(n) {{ const e = {find}; if (e) e.scrollIntoView({{block: 'center'}}); "
    scroll += "else if (n) setTimeout(() => go(n - 1), 200); })(25)"
    st.html(f"<script>{scroll}</script>", unsafe_allow_javascript=True)


def _go(step, example=None):
    """Callback: move to `step`, or end the tour (None) and remember that in a cookie."""
    ss = st.session_state
    if step and not (ss.get("text") or "").strip() and example:
        ss["text"] = example  # the steps after the first need a sentence on the page
    if step is None:
        ss["_tour_cookie"] = True
    ss["tour_step"] = step


def remember():
    """Set the cookie that says the tour is done (after it ended in this session)."""
    if st.session_state.get("_tour_cookie"):
        script = f"document.cookie = '{COOKIE}=done; Max-Age={YEAR}; Path=/; SameSite=Lax'"
        st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)

"""What surrounds every page: app.py draws it, and ensure_router when a page runs without app.py."""

import streamlit as st

from attention.viz.style import CELL_TEXT_CSS
from ui import visitor
from ui.controls import KEEP, keep_valid, use_example
from ui.links import read_url_once, show_notices
from ui.models import chosen_run, examples, model_info, model_picker
from ui.words import GLOSSARY, md_escape


def ensure_router():
    """Make a page run under app.py even when it is the first page a fresh server is asked for.

    The app's one workaround, kept here. Streamlit treats a folder named pages/ as its legacy multipage layout
    until st.navigation has run once in the process: PagesManager.uses_pages_directory, a class attribute set
    when the first session starts (streamlit/runtime/pages_manager.py), makes the script runner run the page
    file alone (_mpa_v1 in scriptrunner/script_runner.py), without app.py's sidebar. No setting turns that
    off, and st.navigation is documented to switch the whole process away from pages/ once it runs; renaming
    the folder would avoid all this, but the project keeps pages/. So a page that finds the legacy mode on
    switches it off and reruns (once per session, so a rerun never swallows a later click): the same URL then
    goes through app.py. Calling st.navigation from the page instead (public API) works in the browser, but
    Streamlit's AppTest turns the legacy mode back on before every run, and the rerun there swallowed clicks.
    In AppTest the page therefore draws the shared sidebar itself. tests/browser/test_e2e_routing.py opens every page
    as the first request of a fresh server and checks that app.py ran.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    if not st.session_state.get("_routed"):
        st.session_state["_routed"] = True
        st.rerun()
    around_page()


def around_page():
    """What every page has: its CSS, the sidebar's model picker and glossary, the visitor's login."""
    # cell numbers too small to read are hidden (style.CELL_TEXT_CSS); a style takes no room on the page
    st.html(f"<style>{CELL_TEXT_CSS}</style>")
    visitor.remember()
    model_picker()
    visitor.login_box()
    glossary()


def glossary():
    """The terms the pages use, one sentence each, folded away in the sidebar of every page."""
    with st.sidebar.expander("Glossary"):
        st.markdown("\n".join(f"- **{term}**: {md_escape(text)}" for term, text in GLOSSARY.items()))


def sentence_page(page, parsers, title, caption):
    """The top of a page about one sentence (Explore, Inside a head): the link's settings read once, the sidebar's
    model summed up, title, caption, link notices; no weights read yet, so no torch: a first visit sees this
    before the model loads (sentence_model). A session with no sentence yet (not typed, not in the link, not from
    another page) gets the model's first example: the page opens on something to look at. Returns the model's
    name."""
    read_url_once(page, parsers)
    name = st.session_state["model"]
    st.session_state.setdefault("text", examples(name)[0])  # an emptied box stays empty: that was the person's
    model_info(name)
    st.title(title)
    st.caption(caption)
    show_notices()
    return name


def sentence_box(examples, placeholder, hint):
    """The sentence box and its example buttons (Explore, Inside a head). Stops the page while the box is empty
    (with `hint`, and the link forgets the old sentence: pages read it on arrival) and, on a fresh server, until
    the browser has drawn the page (ui.server.model_may_load). Returns the sentence."""
    from ui.server import model_may_load

    text = st.text_input("Sentence", key="text", placeholder=placeholder, **KEEP)
    st.pills("Examples", examples, key="example", on_change=use_example, label_visibility="collapsed")
    if not text.strip():
        st.info(hint)
        st.query_params.pop("text", None)
        st.stop()
    if not model_may_load():
        st.stop()
    return text


def sentence_model():
    """The sidebar's model loaded (the page stops if it can't be), and the settings it cannot show dropped (with a
    notice). Returns (name, run)."""
    name, run = chosen_run(summary=False)
    keep_valid(run.model.cfg)
    show_notices()
    return name, run

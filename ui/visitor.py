"""Who the visitor is: their account when the host has configured login (st.login), otherwise an anonymous id
that their browser keeps in a cookie for a year. attention/app/owners.py turns either into the folder of their
runs; nothing here builds a path from what the browser sent."""

from pathlib import Path

import streamlit as st

from attention.app import owners, runstore
from ui.words import md_escape

COOKIE = "attention_visitor"
YEAR = 365 * 24 * 3600


def owner() -> str:
    """This visitor's owner key, found once per session."""
    ss = st.session_state
    if "_owner" not in ss:
        ss["_owner"], ss["_owner_kind"] = identify()
        owners.seen(owners.home(ss["_owner"], runstore.RUNS_DIR), ss["_owner_kind"])
    return ss["_owner"]


def home() -> Path:
    """The folder of this visitor's runs and trainings."""
    return owners.home(owner(), runstore.RUNS_DIR)


def identify():
    """(owner key, kind): the logged-in account, the cookie's visitor, or a new visitor whose cookie is set."""
    if st.user.get("is_logged_in"):
        return owners.account(str(st.user.get("sub") or st.user.get("email"))), "account"
    key = owners.visitor(st.context.cookies.get(COOKIE))
    if key is not None:
        return key, "visitor"
    new = owners.new_visitor_id()
    st.session_state["_set_cookie"] = new
    return owners.visitor(new), "visitor"


def remember():
    """Set a new visitor's cookie, on every run of their first session (a run cut short by a rerun may not have)."""
    if new := st.session_state.get("_set_cookie"):  # made by new_visitor_id(): letters, digits, - and _ only
        script = f"document.cookie = '{COOKIE}={new}; Max-Age={YEAR}; Path=/; SameSite=Lax'"
        st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def login_box():
    """Log in / out in the sidebar, when the host has configured an identity provider ([auth] in secrets.toml)."""
    if not login_configured():
        return
    if st.user.get("is_logged_in"):
        who = md_escape(str(st.user.get("email") or st.user.get("name") or "you"))
        st.sidebar.caption(f"Logged in as {who}: your runs are kept with your account.")
        st.sidebar.button("Log out", key="logout", on_click=st.logout)
    else:
        st.sidebar.caption("Log in to keep your runs with your account, on any browser.")
        st.sidebar.button("Log in", key="login", on_click=st.login)


def login_configured():
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return False

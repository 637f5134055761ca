"""The address bar as state: reading a shared link once, writing the view back, and links to pages."""

import streamlit as st


def show_notices():
    """Show the shared link's notices once."""
    for note in notices():
        st.warning(note)
    notices().clear()


def notices():
    """Messages about the shared link (bad query parameters) to show once on the page."""
    return st.session_state.setdefault("_notices", [])


def parse_flag(raw):
    if raw not in ("on", "off"):
        raise ValueError("expected on or off")
    return raw == "on"


def whole_number(raw):
    try:
        return int(raw)
    except ValueError:
        raise ValueError("expected a whole number such as 2") from None


def parse_ints(raw):
    try:
        return [int(x) for x in raw.split(",") if x] if raw else []
    except ValueError:
        raise ValueError("expected token positions such as 0,3") from None


URL_PARSERS = dict(  # ?key=value -> session_state value; a ValueError means "ignore it, with a notice"
    text=str,  # all of it, so the page can say how much the model leaves out
    layer=whole_number,
    head=whole_number,
    row=whole_number,
    pad=whole_number,
    padmask=parse_flag,
    causal=parse_flag,
    nopos=parse_flag,
    contrib=parse_flag,
    attrib=parse_flag,
    patch=parse_flag,
    corrupt=str,
    hide=parse_ints,
    off=lambda raw: [x for x in raw.split(",") if x],
    focus=str,
)


def parsers(*keys):
    """The URL parsers a page uses, by key."""
    return {k: URL_PARSERS[k] for k in keys}


def read_url_once(page, parsers):
    """On a page's first run in a session, copy valid ?key=value into session_state; note the bad ones."""
    flag = f"_url_read_{page}"
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    for key, parse in parsers.items():
        raw = st.query_params.get(key)
        if raw is None:
            continue
        try:
            st.session_state[key] = parse(raw)
        except ValueError as e:
            notices().append(f"Ignored {key}={raw[:40]!r} in the link: {e}. Using the default instead.")


def write_url(values, defaults):
    """Put the view's non-default values in the URL so the address bar is a shareable link."""
    want = {k: v for k, v in values.items() if v != defaults.get(k)}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def share_link():
    """The full link to this view (host from the browser, state from the query string)."""
    from urllib.parse import urlencode

    base = st.context.url or ""
    query = urlencode(st.query_params.to_dict())
    return f"{base}?{query}" if query else base


def explore_link(model, text=None, **settings):
    """A link that opens the Explore page (the app's root) on `model`, and `text` and settings (off=...) if given."""
    from urllib.parse import quote, urlencode, urljoin

    params = dict(model=model, **({"text": text} if text else {}), **settings)
    return urljoin(st.context.url or "/", "./") + "?" + urlencode(params, quote_via=quote)

"""Attention heatmaps drawn on a canvas by the page (heatmaps.js), from attention.viz.packed's binary messages.

A Streamlit component (components v2: no iframe, no build step): the server sends 2 bytes per weight instead of
a plotly figure's JSON, and the page draws one pixel per weight, so MiniLM's 13 panels at 512 tokens draw in
about as long as they take to arrive. Hover names the query, the key and the weight; a PNG button saves the
picture; a click on a panel can be reported (click=True in the message).
"""

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent
CSS = """
.hm-root { position: relative; font-family: var(--st-font, sans-serif); }
.hm-bar { display: flex; justify-content: flex-end; margin-bottom: 4px; }
.hm-png { font-size: 12px; padding: 2px 8px; cursor: pointer;
  border: 1px solid #d0d0d0; border-radius: 6px; background: white; color: #31333f; }
.hm-canvas { display: block; }
.hm-tip { position: absolute; display: none; pointer-events: none; white-space: pre; z-index: 2;
  font-size: 12px; line-height: 1.35; padding: 4px 8px; border-radius: 4px;
  background: rgba(38, 39, 48, 0.92); color: white; }
"""
# In the page's own DOM, not a shadow root (isolate_styles=False): its class names are prefixed "hm-", and browser
# tests find the canvas with document.querySelectorAll.
_draw = st.components.v2.component(
    "attention_heatmaps", js=(HERE / "heatmaps.js").read_text(), css=CSS, isolate_styles=False
)


def heatmaps(message: bytes, key: str, on_click=None):
    """Draw a packed message (attention.viz.packed.pack); on_click(panel index) runs before the rerun a click
    on a panel starts, when the message was packed with click=True."""
    callback = (lambda: on_click(st.session_state[key]["clicked"])) if on_click else (lambda: None)
    return _draw(data=message, key=key, on_clicked_change=callback)

"""Entry point: `streamlit run app.py`. Routes to the pages and draws the shared sidebar."""

import streamlit as st

import ui

st.set_page_config(page_title="Attention, head by head", page_icon=":material/grid_view:", layout="wide")

pages = {
    "Look": [
        st.Page("pages/explore.py", title="Explore", icon=":material/visibility:", default=True),
        st.Page("pages/inside.py", title="Inside a head", icon=":material/functions:"),
        st.Page("pages/heads.py", title="Heads lab", icon=":material/science:"),
        st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
    ],
    "Train": [
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    ],
}
page = st.navigation(pages)
ui.server.session_memory()  # once per session: memory goes back when it ends
ui.frame.around_page()  # the page's CSS, the sidebar's model picker and glossary
page.run()
ui.server.prepare_training_data()  # once per process, after the first page: the Train page's default data
ui.server.housekeeping()  # at most once an hour: runs past their keeping time (attention/app/owners.py)

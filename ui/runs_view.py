"""The Train page's list of runs: this visitor's own, those shared with them, the shipped ones; one run's
results, and for the visitor's own runs rename, delete, download and a share link."""

import pandas as pd
import streamlit as st

from attention.app import owners, runstore
from attention.app.progress import view_of_run
from attention.training.checkpoints import CheckpointError
from ui import links, models, training_view, visitor
from ui.words import md_escape

ss = st.session_state
HIDDEN = ["path", "shipped", "label", "link", "model", "classes"]


def runs_section():
    """Every run this visitor may see, newest first; pick one to see its results and what they can do with it."""
    st.header("Runs")
    st.caption(
        "Your runs, those shared with you, then the shipped models (read-only). "
        "Only you see your runs, until you share one by its link. "
        + (
            ""
            if ss.get("_owner_kind") == "account"
            else f"Without logging in, they are kept in this browser for "
            f"{owners.KEEP_DAYS:g} days after your last visit. "
        )
        + f"Up to {owners.MAX_RUNS} runs and {owners.MAX_MB:g} MB each."
    )
    rows = runstore.runs_table((runstore.MODELS_DIR, visitor.home()), models.shared())
    df = pd.DataFrame(rows)
    df["shared"] = [whose(r) for r in rows]
    num = st.column_config.NumberColumn(format="%.3f")
    config = dict(test_acc=num, macro_f1=num, shared=st.column_config.TextColumn("whose"))
    st.dataframe(df.drop(columns=HIDDEN), hide_index=True, key="runs_table", column_config=config, height=280)
    by_folder = {r["folder"]: r for r in rows}
    pick = st.selectbox(
        "Run",
        list(by_folder),
        index=None,
        format_func=lambda f: by_folder[f]["label"],
        key="run_pick",
        placeholder="Choose a run to see its results, rename, delete, share or download it",
    )
    if pick:
        run_details(by_folder[pick])


def whose(row):
    return "shipped" if row["shipped"] else "shared with you" if row["shared"] else "yours"


def run_details(row):
    path = row["path"]
    if row["shipped"]:
        st.caption("A shipped model: it can be downloaded but not renamed or deleted.")
    elif row["shared"]:
        st.caption("Shared with you by its link: you can look at it and download it, not rename or delete it.")
    else:
        own_run_actions(row)
    st.download_button(
        "Download as zip",
        lambda: runstore.zip_run(path),
        f"{row['folder']}.zip",
        "application/zip",
        key="download_run",
        on_click="ignore",
    )
    if row["problem"]:
        st.error(f"This run can't be loaded: {row['problem']}")
        return
    try:
        run = models.get_run(str(path), models.run_mtime(row["folder"]))  # cached: this draws on every rerun
    except CheckpointError as e:
        st.error(f"This run can't be loaded: {e}")
        return
    st.link_button("Open on Explore", links.explore_link(row["folder"]))
    if run.meta.get("note"):
        st.caption(md_escape(run.meta["note"]))
    view = view_of_run(dict(run.meta, classes=run.classes), run.history, run.metrics, row["folder"])
    training_view.draw_view(view, "run", (row["folder"], row["name"]))


def own_run_actions(row):
    """Rename, delete, and share or stop sharing one of the visitor's own runs."""
    path, home = row["path"], visitor.home()
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    key = f"name_{row['folder']}"
    c1.text_input("Display name", row["name"], key=key)
    c2.button("Rename", key="rename_run", on_click=lambda: act(runstore.rename_run, path, ss[key], home))
    with c3.popover("Delete"):
        st.write(f"Delete {md_escape(row['folder'])} for good?")
        st.button("Yes, delete", key="delete_run", type="primary", on_click=act, args=(runstore.delete_run, path, home))
    if row["link"]:
        st.write("Anyone with this link can open the run, read-only (its results and misclassified texts too):")
        st.code(links.explore_link(owners.SHARED + row["link"]), language=None)
        st.button("Stop sharing", key="unshare_run", on_click=act, args=(owners.unshare, path, runstore.RUNS_DIR))
    else:
        st.button("Share a read-only link", key="share_run", on_click=act, args=(owners.share, path, runstore.RUNS_DIR))


def act(fn, *args):
    """Callback for rename, delete and sharing: do it, or keep the refusal to show."""
    try:
        fn(*args)
        models.refresh()
    except (PermissionError, ValueError, OSError) as e:
        ss["_runs_error"] = str(e)
    for key in ("run_pick", "model"):  # pickers show display names: hand them the new ones, or the browser's
        if ss.get(key) in models.catalog():  # old label no longer matches an option and the next click resets them
            ss[key] = ss[key]

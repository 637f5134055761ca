"""Train: pick data and a model, watch it learn live, stop it, read its mistakes; every run is kept."""

from pathlib import Path

import streamlit as st

import ui
from attention.app import engine, jobs, owners, runstore
from attention.app.head_job import MINILM
from attention.app.progress import view_of_job
from attention.data.registry import DATASETS
from attention.data.types import DataError
from attention.data.upload import dataset_from_csv
from attention.training.loop import TrainConfig

ui.frame.ensure_router()

UPLOAD = "upload"
RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2, 3e-2, 0.1, 1.0, 10.0]
REFRESH = 0.5  # seconds between redraws while training
ss = st.session_state


@st.cache_data(max_entries=4, show_spinner="Checking the file…")
def parse_upload(data: bytes, filename: str):
    return dataset_from_csv(data, name=runstore.slug(Path(filename).stem))


def upload_dataset():
    """The uploaded CSV as a dataset, or None with the reason shown."""
    f = st.file_uploader("CSV file with a header row naming the columns `text` and `label`", type=["csv"])
    if f is None:
        st.info("Upload a CSV file (UTF-8, at most 5 MB, at least two labels) to train on your own data.")
        return None
    try:
        ds = parse_upload(f.getvalue(), f.name)
    except DataError as e:
        st.error(f"This file can't be used, so nothing will be trained. {e}")
        return None
    st.caption(ui.words.md_escape(ds.description))
    return ds


def number(column, field, default, **kw):
    """A whole-number field with its range in the help text; jobs.check names it when it is out of range.

    No min/max on the widget: the browser would refuse an out-of-range value without telling the server,
    which would then train with the previous one.
    """
    label, low, high = jobs.LIMITS[field]
    help = " ".join([kw.pop("help", ""), f"From {low:,} to {high:,}."]).strip()
    return column.number_input(label, value=default, step=kw.pop("step", 1), help=help, **kw)


KINDS = {"small": "A small transformer, trained from scratch", MINILM: "A classifier on top of MiniLM (pretrained)"}


def training_form():
    """The form's widgets; returns (spec or None, errors, warnings)."""
    kind = st.segmented_control("Model", list(KINDS), format_func=KINDS.get, key="t_kind", default="small") or "small"
    c1, c2, c3, c4 = st.columns(4)
    options = [*DATASETS, UPLOAD]
    names = dict(DATASETS, upload="Upload a CSV (text,label)")
    dataset = c1.selectbox("Dataset", options, format_func=names.get, key="t_dataset")
    if kind == MINILM:
        return head_form(dataset, c2, c3, c4)
    heads = number(c2, "num_heads", 4, key="t_heads")
    d_model = number(c3, "d_model", 64, step=8, key="t_dmodel", help="Split across the heads.")
    layers = number(c4, "num_layers", 1, key="t_layers")
    c1, c2, c3, c4 = st.columns(4)
    positional = c1.selectbox("Positional encoding", ["sinusoidal", "learned", "none"], key="t_pos")
    lr = c2.select_slider("Learning rate", RATES, 2e-3, format_func=lambda v: f"{v:g}", key="t_lr")
    batch = c3.select_slider("Batch size", [16, 32, 64, 128, 256], 64, key="t_batch")
    epochs = number(c4, "epochs", 6, key="t_epochs")
    c1, c2, c3, c4 = st.columns(4)
    pad_mask = c1.toggle("Padding mask", True, key="t_padmask", help="Queries may not attend to <pad> keys.")
    causal = c2.toggle("Causal mask", False, key="t_causal", help="Each token may look only at earlier tokens.")
    patience = number(c3, "patience", 2, key="t_patience")
    seed = number(c4, "seed", 0, key="t_seed")
    upload = upload_dataset() if dataset == UPLOAD else None
    if dataset == UPLOAD and upload is None:
        return None, [], []
    model = dict(d_model=d_model, num_heads=heads, num_layers=layers, positional=positional)
    model.update(pad_mask=pad_mask, causal=causal)
    cfg = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, patience=patience, seed=seed)
    spec = jobs.JobSpec(upload.name if upload else dataset, model, cfg, upload)
    return spec, *jobs.check(spec)


def head_form(dataset, c2, c3, c4):
    """A linear head on frozen MiniLM: its own learning rate, epochs (full batch, so one step each) and patience."""
    st.caption(
        "MiniLM (6 layers × 12 heads, pretrained) reads every text once, kept for later trainings on the same data "
        "(the 26,000 tweets take 3–4 minutes the first time); then a linear layer on its mean-pooled output learns "
        "your classes in seconds. The encoder's weights do not change."
    )
    lr = c2.select_slider("Learning rate", RATES, 3e-2, format_func=lambda v: f"{v:g}", key="t_head_lr")
    epochs = number(c3, "epochs", 300, key="t_head_epochs", help="One full-batch step each.")
    patience = number(c4, "patience", 30, key="t_head_patience")
    seed = number(st.columns(4)[0], "seed", 0, key="t_head_seed")
    upload = upload_dataset() if dataset == UPLOAD else None
    if dataset == UPLOAD and upload is None:
        return None, [], []
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=lr, patience=patience, seed=seed)  # batch: unused, full
    spec = jobs.JobSpec(upload.name if upload else dataset, {"encoder": MINILM}, cfg, upload)
    return spec, *jobs.check(spec)


def start(spec):
    """Start this visitor's training (built from this run's widget values, never a stale copy) and redraw."""
    ss["_job"] = jobs.start(spec, ui.visitor.home())
    for key in ("live_epoch", "live_probe", "live_split", "_live_epoch_last"):
        ss.pop(key, None)
    st.rerun()


def status(snap, job):
    """One line on where the job is, with the progress bar and the Stop button."""
    if snap.state == "queued" and snap.notice:
        st.info(snap.notice)
    elif snap.state == "queued":
        where = f"number {snap.queue_position} in the queue" if snap.queue_position > 1 else "next"
        st.info(f"Waiting for a free worker (other visitors are training): you are {where}.")
    elif snap.state == "loading":
        st.info(snap.message or "Loading the dataset and building the vocabulary…")
    elif snap.state in ("training", "saving"):
        st.progress(snap.fraction, text=snap.progress_text())
    elif snap.state == "failed":
        st.error(snap.message)
    elif snap.state == "interrupted":
        st.warning(snap.message)
        if snap.epochs:
            st.button("Resume", key="resume_training", on_click=job.resume)
    elif not snap.run_name:
        st.info(snap.message)
    else:
        st.success(f"{snap.message} Saved as **{ui.words.md_escape(snap.run_name)}**.")
        st.link_button("Open this model on Explore", ui.links.explore_link(snap.run_name))
    if snap.notice and snap.state != "queued":
        st.warning(snap.notice)
    if snap.active:
        label = "Cancel" if snap.state == "queued" else "Stop"
        st.button(label, key="stop_training", on_click=job.stop)
        if snap.state != "queued":
            st.caption(
                "Time left assumes every epoch runs; early stopping may end sooner. "
                "Stop ends training within a batch and saves the best model so far (on screen in about 2 s). "
                "Closing this tab does not stop it: the run is saved when it ends."
            )


def live(job):
    """Progress and curves, redrawn every REFRESH seconds by a fragment while the job runs.

    What changes once an epoch (probe heads, reports) is drawn by full reruns, one per epoch, so a
    redraw sends little (one fragment only: with several on different timers the browser sometimes
    dropped a cached message the server then referred to, and the page disconnected for good).
    """
    snap = job.snapshot()
    status(snap, job)
    # Drawn (empty) from the start: the browser loads its chart library while the worker begins, not after.
    ui.training_view.draw_curves(snap.history, snap.steps_per_epoch, snap.max_epochs, "live", job.id)
    if len(snap.epochs) != ss.get("_train_epochs_drawn") or (not snap.active and ss.get("_train_watching")):
        st.rerun()  # a new epoch to show, or the end: also turns the timer off and lists the new run


def live_epoch(snap, job, column):
    """The probe heads (in `column`, right of the curves) and the reports of the latest epoch."""
    if snap.state in ("queued", "loading"):
        return
    v = view_of_job(snap)
    with column:
        ui.training_view.draw_probes(v, "live", job.id)
    if v.reports:
        ui.training_view.draw_reports(v, "live", job.id)


st.title("Train a model")
st.caption(
    "Choose data and a model, press Start and watch it learn: loss and accuracy, where each head looks, "
    "and which classes it confuses. Every run is saved and appears in the model picker."
)
ui.links.show_notices()
engine.warm()  # a worker ready by the time Start is pressed (it goes away when nobody trains)
if ss.get("_job") is None:  # a training this visitor started earlier (another tab, before a reload) goes on here
    ss["_job"] = jobs.current(ui.visitor.home())
job = ss.get("_job")  # this visitor's training (jobs.Job): it runs on the engine, the page follows its log
snap = job.snapshot() if job else None
ss["_train_watching"] = bool(snap and snap.active)
if snap and snap.run_name and ss.get("_listed") != job.id:
    ui.models.refresh()  # the model picker's list is cached for a few seconds: show the new run at once
    ss["_listed"] = job.id
ss["_train_epochs_drawn"] = len(snap.epochs) if snap else 0

with st.expander("New training", expanded=not ss["_train_watching"]):
    spec, errors, warnings = training_form()
    for msg in errors:
        st.error(msg)
    for msg in warnings:
        st.warning(msg)
    running, waiting, capacity = engine.busy()
    if ss["_train_watching"]:
        st.info("You are already training: stop it (below) before starting another.")
    elif capacity and running >= capacity:
        st.info(f"Every worker is training for other visitors ({waiting} waiting): yours would queue.")
    home = ui.visitor.home()
    full = owners.over_limit(home, runstore.RUNS_DIR, len(runstore.list_runs(home)))
    if full:
        st.warning(full)
    blocked = spec is None or bool(errors) or ss["_train_watching"] or bool(full)
    if st.button("Start training", key="start_training", type="primary", disabled=blocked) and not blocked:
        start(spec)

if job is not None:
    st.header("Your training")
    left, right = st.columns(2, gap="large")
    with left:
        st.fragment(run_every=REFRESH if ss["_train_watching"] else None)(live)(job)
    live_epoch(snap, job, right)
if "_runs_error" in ss:
    st.error(ss.pop("_runs_error"))
ui.runs_view.runs_section()

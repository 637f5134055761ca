"""Heads lab: does multi-head beat single-head, and what does each head of a model do?"""

import numpy as np
import pandas as pd
import streamlit as st

import ui
from attention.analysis import heads, lab_file
from attention.data.types import DataError
from attention.training import experiment_report
from attention.training.checkpoints import CheckpointError
from attention.viz import bar_charts, labelled, line_charts, packed

ui.frame.ensure_router()

st.title("Heads lab")
st.caption(
    "Do more attention heads make a better model, and what does each head do? First, the same model trained with "
    "1, 2, 4 and 8 heads on the same data, budget and seeds, compared. Then the model in the sidebar taken apart "
    "head by head: remove one, prune several, see which sentences change and where each head looks."
)
ui.links.show_notices()

# --- 1. the head-count experiment ---------------------------------------------------------------
st.header("Does the number of heads matter?")
choices = ["tweets", "synthetic"]
model_dataset = ui.models.catalog().get(st.session_state.get("model"), {}).get("dataset")
first = model_dataset if model_dataset in choices else "tweets"  # open on the sidebar model's dataset
dataset = st.segmented_control("Dataset", choices, key="lab_dataset", default=first) or first
saved = experiment_report.load(dataset)
if saved is None:
    st.info(f"No saved experiment for {dataset}. Run `python -m attention.training.experiment --dataset {dataset}`.")
else:
    rows = saved["rows"]
    ui.heads_lab.verdicts(rows, saved["train"], saved["model"]["d_model"])
    left, right = st.columns([3, 2])
    left.plotly_chart(line_charts.seed_curves(rows), key="seed_curves")
    left.caption("Validation accuracy per epoch: the mean over seeds, with a min–max band.")
    table = pd.DataFrame(experiment_report.summary(rows))
    shown = pd.DataFrame(
        {
            "heads": table["heads"],
            "test accuracy": [f"{m:.3f} ± {s:.3f}" for m, s in zip(table["test_acc"], table["test_acc_std"])],
            "test macro-F1": [f"{m:.3f} ± {s:.3f}" for m, s in zip(table["test_f1"], table["test_f1_std"])],
            "val accuracy": [f"{m:.3f} ± {s:.3f}" for m, s in zip(table["val_acc"], table["val_acc_std"])],
            "parameters": table["parameters"],
            "seconds": table["seconds"].round(1),
            "samples/s": table["samples_per_s"].round(0).astype(int),
        }
    )
    right.dataframe(shown, hide_index=True)
    csv = pd.DataFrame([{k: v for k, v in r.items() if k != "curve"} for r in rows]).to_csv(index=False)
    right.download_button("Results as CSV", csv, f"heads-{dataset}.csv", "text/csv", key="results_csv")

# --- 2. one model's heads ------------------------------------------------------------------------
name, run = ui.models.chosen_run()
st.header(f"Inside {name}: what each head does")


@st.cache_data(show_spinner=False, max_entries=8)
def report(name, mtime):
    run = ui.models.load(name)
    return lab_file.load(run.path) or heads.lab_report(run)  # MiniLM's shipped heads: measured by `make models`


n_heads = run.model.cfg.num_layers * run.model.cfg.num_heads
wait = " (about a minute and a half for MiniLM's 72 on 2 cores)" if n_heads > 16 else ""
try:
    with st.spinner(f"Removing each of the {n_heads} heads in turn, then pruning them{wait}…"):
        rep = report(name, ui.models.run_mtime(name))
except (DataError, CheckpointError) as e:
    st.info(f"The lab cannot analyse this model: {ui.words.md_escape(str(e))}.")
    st.stop()

st.caption(
    f"Measured on {len(rep['texts']):,} texts of the model's validation split. Pick another model in the sidebar."
)
full, rows = rep["full"], rep["rows"]
labels = [r["name"] for r in rows]
c1, c2 = st.columns(2)
with c1:
    st.subheader("Remove one head")
    st.caption(
        f"Validation accuracy with every head: {full.accuracy:.1%}. Each head: the change in accuracy when it alone "
        "is removed."
    )
    if len(rows) <= 16:
        st.plotly_chart(
            bar_charts.bars(labels, [r["d_acc"] * 100 for r in rows], "Δ accuracy (points)"), key="ablation"
        )
    else:  # 72 bars are a wall: one cell per head, layers down, heads across
        L, H = run.model.cfg.num_layers, run.model.cfg.num_heads
        grid = np.zeros((L, H), dtype=np.float32)
        for r in rows:
            grid[r["layer"], r["head"]] = r["d_acc"] * 100
        rows_, cols = [f"layer {i + 1}" for i in range(L)], [[f"head {h + 1}" for h in range(H)]]
        cells = packed.pack([grid], rows_, ["Δ accuracy (points)"], cols, scale="value", name="heads-ablation")
        ui.heatmaps.heatmaps(cells, key="ablation")
with c2:
    st.subheader("Prune heads")
    kept, acc = zip(*rep["curve"])
    step = kept[0] - kept[1] if len(kept) > 1 else 1
    st.caption(
        "Heads removed from least to most important; accuracy after "
        + ("each removal." if step == 1 else f"every {step} removals.")
    )
    st.plotly_chart(
        line_charts.line(kept, np.array(acc) * 100, "heads kept", "accuracy (%)", reverse_x=True), key="pruning"
    )

flips = [(lab, i) for lab, r in zip(labels, rows) for i in r["flipped"][:20]]
with st.expander(f"Sentences whose prediction flips when a head is removed ({sum(len(r['flipped']) for r in rows)})"):
    if flips:
        df = pd.DataFrame(
            {
                "head removed": [lab for lab, _ in flips],
                "sentence": [rep["texts"][i] for _, i in flips],
                "true class": [run.classes[rep["labels"][i]] for _, i in flips],
                "open": [ui.links.explore_link(name, rep["texts"][i], off=lab) for lab, i in flips],
            }
        )
        st.dataframe(
            df, hide_index=True, column_config={"open": st.column_config.LinkColumn("Explore", display_text="open")}
        )
    else:
        st.write("No validation prediction changes when any single head is removed.")

st.subheader("Head diagnostics")
layer = 0
if run.model.cfg.num_layers > 1:
    layer = st.segmented_control("Layer", list(range(run.model.cfg.num_layers)), format_func=lambda i: f"{i + 1}") or 0
d = rep["diagnostics"][layer]
H = run.model.cfg.num_heads
T_mean = rep["mean_len"]
diag = pd.DataFrame(
    {
        "head": rep["names"][layer * H : (layer + 1) * H],
        "entropy (nats)": d["entropy"].round(3),
        "on self": d["self"].round(3),
        "on previous": d["previous"].round(3),
        "on first": d["first"].round(3),
        "on last": d["last"].round(3),
        "role": rep["roles"][layer],
    }
).sort_values("role")
c1, c2 = st.columns([3, 2])
c1.dataframe(diag, hide_index=True)
c1.caption(
    f"Uniform attention over {T_mean:.0f} tokens (the mean length) has entropy {np.log(max(T_mean, 1)):.2f} nats."
)
c1.download_button("Diagnostics as CSV", diag.to_csv(index=False), f"heads-{name}.csv", "text/csv", key="diag_csv")
with c2:
    st.caption("How alike heads are: correlation of their weights over the validation texts.")
    names = rep["names"][layer * H : (layer + 1) * H]
    st.plotly_chart(labelled.matrix(rep["similarity"][layer], names), key="similarity")

if run.meta.get("dataset") == "synthetic":
    st.subheader("Where heads matter: do they find the true positions?")
    hits = rep["position_hits"][layer]
    st.caption(
        "From the query 'vs', how often each head's strongest attention lands on the number just before it "
        "(left) or just after it (right)."
    )
    st.dataframe(
        pd.DataFrame({"head": names, "→ left number": hits[:, 0].round(3), "→ right number": hits[:, 1].round(3)}),
        hide_index=True,
    )

ui.head_map.head_map(name, run, rep)

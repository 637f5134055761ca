"""The Heads lab's answer to "does multi-head beat single-head?": verdicts paired by seed, with their reasoning."""

import streamlit as st

from attention.training import experiment_report as er
from attention.viz import line_charts

SHOW = {"gain": st.success, "loss": st.error}


def verdicts(rows, train, d_model):
    """Each head count against 1 head: the sentence, the per-seed points, the intervals, and what they mean."""
    paired = er.verdicts(rows)
    for _, c in paired:
        SHOW.get(c.kind, st.info)(c.sentence)
    seeds, epochs = len({r["seed"] for r in rows}), train["epochs"]
    st.caption(
        f"{seeds} seeds per head count, trained {er.budget(train)}, d_model {d_model}; test accuracy of each run's "
        f'best validation epoch. {er.ASSUMES} "Detectable" says the interval excludes 0; whether a gap matters is '
        f"its size: under {er.MATTERS:.0f} point of accuracy it would not change which model a person picks."
    )
    late = er.unsettled(rows, epochs)
    if late:
        st.warning(
            f"{len(late)} of {len(rows)} runs had their best validation epoch within {er.SETTLED} epochs of the "
            f"end of their {epochs}: they might still have improved, so these numbers may understate them."
        )
    left, right = st.columns(2)
    left.plotly_chart(line_charts.paired_seeds(rows), key="paired_seeds")
    left.caption("One grey line per seed: the runs each comparison pairs. Red: the mean over seeds.")
    right.dataframe(
        [
            {
                "heads vs 1": h,
                "difference (points)": round(c.mean, 2),
                "95% CI": "—" if c.low is None else f"{c.low:+.2f} to {c.high:+.2f}",
                "p": "—" if c.p is None else f"{c.p:.3f}",
                "verdict": c.kind,
            }
            for h, c in paired
        ],
        hide_index=True,
    )

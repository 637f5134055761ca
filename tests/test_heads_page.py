"""AppTest smoke tests for the Heads lab."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def open_lab(model):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["model"] = model
    at.run()
    return at.switch_page("pages/heads.py").run()


def test_synthetic_model_shows_true_position_hits():
    at = open_lab("synthetic-4h")
    assert not at.exception
    # the lab opens on the sidebar model's dataset, where the saved experiment finds heads matter
    assert at.segmented_control(key="lab_dataset").value == "synthetic"
    assert any("a clear win" in m.value for m in at.success)
    hits = at.dataframe[-1].value
    assert list(hits.columns) == ["head", "→ left number", "→ right number"]
    # the shipped 4-head model splits the work: heads that find the left number and heads that find
    # the right one, and no head finds both (one head can only blend them)
    assert hits["→ left number"].max() > 0.4 and hits["→ right number"].max() > 0.8
    assert (hits[["→ left number", "→ right number"]].min(axis=1) < 0.05).all()


def test_tweets_model_shows_saved_experiment_and_diagnostics():
    at = open_lab("tweets-4h")
    assert not at.exception
    sentences = [m.value for m in [*at.info, *at.success, *at.error]]
    assert any("heads" in s and "1 head by" in s for s in sentences)
    diag = next(d.value for d in at.dataframe if "entropy (nats)" in d.value.columns)
    assert len(diag) == 4 and (diag["entropy (nats)"] >= 0).all()

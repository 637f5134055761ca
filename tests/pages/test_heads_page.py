"""AppTest smoke tests for the Heads lab."""

from pathlib import Path

from kit import new_app

ROOT = Path(__file__).resolve().parents[2]


def open_lab(model):
    at = new_app(timeout=120)
    at.query_params["model"] = model
    at.run()
    return at.switch_page("pages/heads.py").run()


def test_synthetic_model_shows_true_position_hits():
    at = open_lab("synthetic-4h")
    assert not at.exception
    # the lab opens on the sidebar model's dataset, where the saved experiment finds heads matter
    assert at.segmented_control(key="lab_dataset").value == "synthetic"
    verdicts = [m.value for m in [*at.success, *at.info, *at.error] if "1 head" in m.value]
    assert len(verdicts) == 3 and all("95% CI" in v or "no verdict" in v for v in verdicts)  # paired by seed
    table = next(d.value for d in at.dataframe if "95% CI" in d.value.columns)
    assert list(table["heads vs 1"]) == [2, 4, 8]
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
    assert sum("heads" in s and ("1 head by" in s or "vs 1 head" in s) for s in sentences) == 3
    assert any("Paired by seed" in c.value for c in at.caption)  # what the test assumes, in words
    diag = next(d.value for d in at.dataframe if "entropy (nats)" in d.value.columns)
    assert len(diag) == 4 and (diag["entropy (nats)"] >= 0).all()


def test_a_run_trained_on_an_upload_keeps_its_validation_split_privately_and_the_lab_analyses_it(runs_dir):
    import zipfile
    from io import BytesIO

    from kit import spec, train_here

    from attention.app import runstore
    from attention.training import checkpoints

    snap = train_here(runs_dir, spec(n=200, epochs=1))
    folder = runs_dir / snap.run_name
    kept = checkpoints.read_validation(folder)
    split = spec(n=200).upload.val
    assert kept == dict(texts=split.texts, labels=split.labels) and len(kept["texts"]) == 20
    names = zipfile.ZipFile(BytesIO(runstore.zip_run(folder))).namelist()
    assert f"{folder.name}/config.json" in names and not any("validation" in n for n in names)  # not handed out
    at = open_lab(snap.run_name)
    assert not at.exception and not [i for i in at.info if "cannot analyse" in i.value]
    diag = next(d.value for d in at.dataframe if "entropy (nats)" in d.value.columns)
    assert len(diag) == spec().model["num_heads"]  # every head measured on the kept split


def test_an_old_upload_run_without_its_split_says_why_the_lab_cannot_analyse_it(runs_dir):
    from kit import save_old_run

    save_old_run(runs_dir, "old-upload")
    at = open_lab("old-upload")
    assert not at.exception
    said = " ".join(i.value for i in at.info).replace("\\", "")  # as shown, Markdown escapes undone
    assert "trained on an uploaded file (tiny) before runs kept their validation texts" in said

"""AppTest smoke tests of the Train page: the form, upload validation, a tiny training end to end, the queue."""

import json
import random
import time
from urllib.parse import quote

import numpy as np
import pytest
import torch
from kit import app, new_app, save_old_run, spec, train_here

from attention.app import engine, jobs, owners, runstore
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.training import checkpoints
from attention.training.metrics import classification_report

torch.set_num_threads(1)


pytestmark = pytest.mark.usefixtures("runs_dir")  # runs saved here go to a temporary folder (tests/conftest.py)


def train_page():
    at = new_app().run()
    return at.switch_page("pages/train.py").run()


def tiny_csv(n=200, labels=("neg", "pos"), noise=0.0):
    """Texts whose words give the label away; a `noise` share of them carry a wrong label."""
    rng = random.Random(0)
    words = {"neg": "bad awful poor hate sad".split(), "pos": "good great fine nice love".split()}
    rows = ["text,label"]
    for i in range(n):
        y = labels[i % len(labels)]
        label = rng.choice(labels) if rng.random() < noise else y
        rows.append(" ".join(rng.choices(words.get(y, [y]), k=4)) + f" {i},{label}")
    return "\n".join(rows).encode()


def upload(at, data, name="data.csv"):
    at.selectbox(key="t_dataset").set_value("upload").run()
    at.file_uploader[0].upload(name, data, "text/csv")
    return at.run()


def texts(at):
    return " ".join(e.value for e in [*at.error, *at.warning, *at.info, *at.success])


def run_until(at, done, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if done(at):
            return at
        time.sleep(0.3)
    raise AssertionError("timed out: " + texts(at))


def runs_table(at):
    return next(d.value for d in at.dataframe if "folder" in d.value.columns)


def saved(at):
    return any("Saved as" in s.value for s in at.success)


def test_train_page_opens_with_sensible_defaults():
    at = train_page()
    assert not at.exception
    assert at.selectbox(key="t_dataset").value == "tweets"
    assert at.number_input(key="t_heads").value == 4 and at.number_input(key="t_dmodel").value == 64
    assert not at.button(key="start_training").disabled
    assert "tweets-4h" in set(runs_table(at)["folder"])


def test_d_model_not_divisible_by_heads_is_explained_before_training():
    at = train_page()
    at.number_input(key="t_heads").set_value(3).run()
    assert "not divisible by 3 heads" in at.error[0].value
    assert at.button(key="start_training").disabled


BAD_UPLOADS = {
    "missing column": (b"sentence,label\nhello,a\n", "Missing column 'text'"),
    "one class only": (b"text,label\n" + b"\n".join(b"text %d,same" % i for i in range(20)), "Only one label"),
    "undecodable bytes": (b"text,label\n\xff\xfe caf\xe9,a\n", "not UTF-8"),
    "too large": (b"text,label\n" + b"x,a\n" * 1_300_000, "the limit is 5,000,000 bytes"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_a_bad_upload_says_what_is_wrong_and_trains_nothing(case, runs_dir):
    data, message = BAD_UPLOADS[case]
    at = upload(train_page(), data)
    assert not at.exception
    assert message in at.error[0].value and "nothing will be trained" in at.error[0].value
    assert at.button(key="start_training").disabled
    assert runstore.list_runs(runs_dir) == [] and not (runs_dir / ".jobs").exists()


@pytest.mark.parametrize("layers", [1, 2])
def test_a_tiny_training_ends_with_curves_confusion_matrix_and_table(runs_dir, layers):
    at = upload(train_page(), tiny_csv(300, noise=0.3))
    at.number_input(key="t_heads").set_value(2).run()
    at.number_input(key="t_dmodel").set_value(16).run()
    at.number_input(key="t_layers").set_value(layers).run()
    at.number_input(key="t_epochs").set_value(3).run()
    at.button(key="start_training").click().run()
    assert not at.exception
    at = run_until(at, saved)
    assert not at.exception
    folder = runstore.list_runs(runs_dir)[0].name
    assert folder.startswith("data-2h-") and folder in at.success[0].value.replace("\\", "")
    probe_layers = [s for s in at.segmented_control if s.key == "live_l"]
    assert len(probe_layers) == (layers > 1) and (layers == 1 or probe_layers[0].options == ["1", "2"])
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    curves = [c for c in charts if any(t.get("name") == "val loss" for t in c["data"])]
    assert len(curves[0]["data"][0]["y"]["bdata"]) > 0 or len(curves[0]["data"][0]["y"]) > 0
    confusion = [c for c in charts if c["data"][0].get("texttemplate") == "%{text}"]
    assert confusion and confusion[0]["data"][0]["x"] == ["neg", "pos"]
    per_class = [d.value for d in at.dataframe if "precision" in d.value.columns][0]
    assert list(per_class["class"]) == ["neg", "pos", "macro avg"]
    assert at.segmented_control(key="live_split").options == ["validation", "test"]
    assert folder in set(runs_table(at)["folder"])  # the runs table lists it
    mistakes = next(d.value for d in at.dataframe if "predicted" in d.value.columns)
    assert (mistakes["true"] != mistakes["predicted"]).all() and len(mistakes) > 0
    link, text = mistakes["explore"].iloc[0], mistakes["text"].iloc[0]
    assert link.endswith(f"?model={folder}&text={quote(text)}")
    at.selectbox(key="run_pick").set_value(folder).run()  # the saved run opens with its probes and reports
    assert not at.exception
    assert len([s for s in at.segmented_control if s.key == "run_l"]) == (layers > 1)
    assert sum("precision" in d.value.columns for d in at.dataframe) == 2  # this session's training and the run


def test_a_diverging_learning_rate_stops_with_advice(runs_dir):
    at = upload(train_page(), tiny_csv(300))
    at.number_input(key="t_dmodel").set_value(16).run()
    at.number_input(key="t_epochs").set_value(50).run()
    at.select_slider(key="t_lr").set_value(10.0).run()
    assert "NaN" in at.warning[0].value  # warned before starting
    at.button(key="start_training").click().run()
    at = run_until(at, lambda a: bool(a.error))
    assert "diverged" in at.error[0].value and "Try a learning rate of 0.01." in at.error[0].value
    assert runstore.list_runs(runs_dir) == []


def test_a_request_beyond_the_engines_workers_waits_in_a_visible_queue():
    elsewhere = owners.home(owners.account("another visitor"), runstore.RUNS_DIR)
    others = [jobs.start(spec(n=300, epochs=500, seed=i), elsewhere) for i in range(engine.MAX_TRAININGS)]
    try:
        training = lambda a: all(j.snapshot().state == "training" for j in others)
        run_until(train_page(), lambda a: training(a) and engine.busy()[0] == len(others), timeout=60)
        at = upload(train_page(), tiny_csv())
        assert "Every worker is training for other visitors (0 waiting): yours would queue." in texts(at)
        at.button(key="start_training").click().run()
        at = run_until(at, lambda a: "you are next" in texts(a))
        assert at.button(key="stop_training").label == "Cancel"
        at.button(key="stop_training").click().run()
        at = run_until(at, lambda a: "nothing was trained" in texts(a))
    finally:
        for job in others:
            job.stop()


def test_runs_can_be_renamed_downloaded_and_deleted_but_shipped_ones_only_downloaded(runs_dir):
    small = jobs.JobSpec("tiny", dict(d_model=16, num_heads=2), jobs.TrainConfig(epochs=1, min_freq=1), tiny_dataset())
    folder = train_here(runs_dir, small).run_name
    at = train_page()
    assert runs_table(at)["folder"].iloc[0] == folder  # newest first
    assert runs_table(at)["shared"].iloc[0] == "yours"
    at.selectbox(key="run_pick").set_value(folder).run()
    assert not at.exception
    assert at.get("download_button") and at.selectbox(key="run_pick").value == folder
    at.text_input(key=f"name_{folder}").set_value("my <b>first</b> model").run()
    at.button(key="rename_run").click().run()
    assert json.loads((runs_dir / folder / "config.json").read_text())["name"] == "my <b>first</b> model"
    assert "my <b>first</b> model" in set(runs_table(at)["name"])
    at.button(key="delete_run").click().run()
    assert not (runs_dir / folder).exists() and not at.exception
    at.selectbox(key="run_pick").set_value("tweets-4h").run()
    assert "shipped model" in " ".join(c.value for c in at.caption)
    assert not [b for b in at.button if b.key in ("rename_run", "delete_run")]


def test_a_run_with_many_classes_shows_the_most_confused_and_lists_every_confusion(runs_dir):
    classes = [f"class {i}" for i in range(30)]
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 30, 600)
    y_pred = np.where(rng.random(600) < 0.7, y_true, rng.integers(0, 30, 600))
    rep = classification_report(y_true, y_pred, classes)
    tok = Tokenizer.build(["a b"], min_freq=1)
    model = AttentionClassifier(ModelConfig(vocab_size=len(tok), num_classes=30, d_model=16, num_heads=2))
    checkpoints.save_run(
        runs_dir / "many", model, tok, classes, dict(name="many"), dict(epochs=[], steps=[]), dict(val=rep.to_dict())
    )
    at = train_page()
    at.selectbox(key="run_pick").set_value("many").run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    confusion = next(c for c in charts if "most confused" in c["layout"].get("title", {}).get("text", ""))
    assert len(confusion["data"][0]["x"]) == 20 and "of 30 classes" in confusion["layout"]["title"]["text"]
    pairs = next(d.value for d in at.dataframe if "share" in d.value.columns)
    assert len(pairs) == len(rep.confusions()) and pairs["count"].is_monotonic_decreasing
    assert set(pairs["true"]) | set(pairs["predicted"]) == set(classes)  # every class, not only the 20 drawn


def tiny_dataset():
    from attention.data.upload import dataset_from_csv

    return dataset_from_csv(tiny_csv(), name="tiny")


# --- whose runs are whose: another owner's runs, share links, the limit -------------------------------------------


def a_run(runs_dir, name):
    """A finished run with an (empty) training history, as the Train page draws one."""
    path = save_old_run(runs_dir, name)
    checkpoints.write_json(path / "history.json", dict(epochs=[], steps=[]))
    return path


def someone_elses_run(name="their-run"):
    return a_run(owners.home(owners.account("someone else"), runstore.RUNS_DIR), name)


def action_buttons(at):
    return [b.key for b in at.button if b.key in ("rename_run", "delete_run", "share_run", "unshare_run")]


def test_another_owners_run_is_never_listed_nor_opened_by_its_folder_name():
    someone_elses_run()
    at = train_page()
    assert not at.exception
    assert "their-run" not in set(runs_table(at)["folder"])
    assert not [o for o in at.selectbox(key="model").options if "their-run" in o]
    assert not [o for o in at.selectbox(key="run_pick").options if "their-run" in o]
    at = app(model="their-run").run()
    assert not at.exception
    assert "There is no model called" in texts(at) and at.selectbox(key="model").value != "their-run"


def test_a_share_link_opens_someone_elses_run_read_only():
    name = owners.share(someone_elses_run(), runstore.RUNS_DIR)
    at = new_app()
    at.query_params["model"] = name
    at.run()
    assert not at.exception and "There is no model called" not in texts(at)
    assert at.selectbox(key="model").value == name
    assert any("their-run" in o for o in at.selectbox(key="model").options)
    at.switch_page("pages/train.py").run()
    assert not at.exception
    table = runs_table(at)
    assert list(table[table["folder"] == name]["shared"]) == ["shared with you"] and "their-run" not in set(
        table["folder"]
    )
    assert set(table["shared"]) == {"shared with you", "shipped"}  # the column "whose": none of this visitor's own
    at.selectbox(key="run_pick").set_value(name).run()
    assert not at.exception
    assert "Shared with you by its link" in " ".join(c.value for c in at.caption)
    assert action_buttons(at) == [] and not [c for c in at.code if "shared-" in c.value]


def test_sharing_ones_own_run_shows_its_link_until_sharing_stops(runs_dir):
    run = a_run(runs_dir, "mine")
    at = train_page()
    at.selectbox(key="run_pick").set_value("mine").run()
    assert action_buttons(at) == ["rename_run", "delete_run", "share_run"]
    at.button(key="share_run").click().run()
    assert not at.exception
    links = [c.value for c in at.code if "model=shared-" in c.value]
    assert len(links) == 1
    name = links[0].split("model=")[1]
    assert owners.shared_run(name, runstore.RUNS_DIR) == run
    assert "unshare_run" in action_buttons(at) and "share_run" not in action_buttons(at)
    at.button(key="unshare_run").click().run()
    assert not at.exception
    assert owners.shared_run(name, runstore.RUNS_DIR) is None
    assert not [c for c in at.code if "model=shared-" in c.value] and "share_run" in action_buttons(at)


def test_at_the_run_limit_start_is_disabled_and_the_page_says_what_to_do(runs_dir, monkeypatch):
    monkeypatch.setattr(owners, "MAX_RUNS", 1)
    a_run(runs_dir, "mine")
    at = train_page()
    assert not at.exception
    assert "delete one to train another" in texts(at)
    assert at.button(key="start_training").disabled
    at.selectbox(key="run_pick").set_value("mine").run()
    at.button(key="delete_run").click().run()  # one fewer: Start again
    assert not at.exception and "delete one to train another" not in texts(at)
    assert not at.button(key="start_training").disabled


def test_a_run_without_a_training_history_can_be_picked(runs_dir):
    save_old_run(runs_dir, "no-history")  # history.json is {}: load_run accepts it (a missing one too)
    at = train_page()
    at.selectbox(key="run_pick").set_value("no-history").run()
    assert not at.exception, (
        "BUG ui/training_view.py:41 draw_curves reads h['epochs'] of a run whose history.json is {} or missing "
        "(load_run accepts both): picking it on the Train page raises KeyError 'epochs'"
    )
    assert at.get("download_button")

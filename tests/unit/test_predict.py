"""python -m attention.predict: one JSON line per text, each what the Explore page shows for that text."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from attention import analyze, load_run
from attention.predict import find_run, predict
from attention.training.checkpoints import MODELS_DIR, CheckpointError

TEXTS = ["not bad at all", "the crew was rude and the flight was late", "thanks!", "ok", "the crew was kind"]


@pytest.mark.parametrize("name", ["tweets-4h", "tweets-1h", "bbc-4h"])
def test_grouped_predictions_equal_explores_one_at_a_time(name):
    run = load_run(MODELS_DIR / name)
    rows = predict(run, TEXTS, batch_size=2)  # several groups of equal length, some split in two
    for text, row in zip(TEXTS, rows):
        a = analyze(run.model, run.tokenizer, text)  # Explore's path: one sentence, no padding
        assert row["text"] == text and row["prediction"] == run.classes[a.pred]
        np.testing.assert_allclose(list(row["probabilities"].values()), a.probs, atol=1e-6)
        assert list(row["probabilities"]) == run.classes


def test_a_model_trained_with_the_causal_mask_predicts_with_it():
    run = load_run(MODELS_DIR / "tweets-2h")
    run.model.cfg = dataclasses.replace(run.model.cfg, causal=True)  # as if trained so: Explore then masks
    plain = load_run(MODELS_DIR / "tweets-2h")
    text = "the crew was rude and the flight was late"
    a = analyze(run.model, run.tokenizer, text)
    row, unmasked = predict(run, [text])[0], predict(plain, [text])[0]
    np.testing.assert_allclose(list(row["probabilities"].values()), a.probs, atol=1e-6)
    assert not np.allclose(list(row["probabilities"].values()), list(unmasked["probabilities"].values()))


def test_the_command_prints_a_line_per_text_from_arguments_and_a_file(tmp_path):
    f = tmp_path / "texts.txt"
    f.write_text("the crew was kind\n\nschön, <b>danke</b>\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "attention.predict", "--model", "tweets-4h", "not bad at all", "--file", str(f)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert [r["text"] for r in rows] == ["not bad at all", "the crew was kind", "", "schön, <b>danke</b>"]
    assert "error" in rows[2] and "prediction" not in rows[2]  # an empty line: said, not guessed
    for r in (rows[0], rows[1], rows[3]):
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-5 and r["prediction"] in r["probabilities"]


def test_an_unknown_model_is_named_with_the_choices_and_exits_2():
    with pytest.raises(CheckpointError, match="tweets-4h"):
        find_run("no-such-model")
    cmd = [sys.executable, "-m", "attention.predict", "--model", "no-such-model", "hi"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 2 and "No model called 'no-such-model'" in done.stderr and not done.stdout

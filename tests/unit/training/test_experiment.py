"""attention.training.experiment's command line: an experiment saved, then more seeds added on its own budget."""

import json

from attention.training import experiment, experiment_report
from attention.training.loop import TrainConfig


def test_more_seeds_are_added_to_the_saved_experiment_on_its_budget(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(experiment, "EXPERIMENTS_DIR", tmp_path)
    monkeypatch.setattr(experiment_report, "EXPERIMENTS_DIR", tmp_path)
    monkeypatch.setitem(experiment.BUDGETS, "synthetic", TrainConfig(epochs=2, patience=1, lr=3e-3))
    experiment.main(["--dataset", "synthetic", "--seeds", "1"])
    first = json.loads((tmp_path / "synthetic.json").read_text())
    assert [(r["heads"], r["seed"]) for r in first["rows"]] == [(1, 0), (2, 0), (4, 0), (8, 0)]
    monkeypatch.setitem(experiment.BUDGETS, "synthetic", TrainConfig(epochs=9))  # not used: the saved one is
    experiment.main(["--dataset", "synthetic", "--more-seeds", "1"])
    both = json.loads((tmp_path / "synthetic.json").read_text())
    assert both["rows"][:4] == first["rows"] and [r["seed"] for r in both["rows"][4:]] == [1, 1, 1, 1]
    assert both["train"] == first["train"] and all(len(r["curve"]) <= 2 for r in both["rows"])
    assert "one seed" not in capsys.readouterr().out.split("saved")[-1]  # two seeds now: verdicts with intervals

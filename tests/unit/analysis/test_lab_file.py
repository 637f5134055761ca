"""A lab report kept beside a model: read back equal to the one measured, and only for the weights it measured."""

import shutil

import numpy as np

from attention.analysis import lab_file
from attention.analysis.heads import lab_report
from attention.training.checkpoints import MODELS_DIR, load_run


def test_a_saved_report_reads_back_equal_and_only_for_its_weights(tmp_path):
    folder = tmp_path / "synthetic-4h"
    shutil.copytree(MODELS_DIR / "synthetic-4h", folder)
    assert lab_file.load(folder) is None  # none saved
    rep = lab_report(load_run(folder), limit=200)
    lab_file.save(folder, rep)
    back = lab_file.load(folder)
    assert back["full"].accuracy == rep["full"].accuracy and np.array_equal(back["full"].preds, rep["full"].preds)
    assert [r["name"] for r in back["rows"]] == [r["name"] for r in rep["rows"]]
    assert all(np.array_equal(a["flipped"], b["flipped"]) for a, b in zip(back["rows"], rep["rows"]))
    assert back["curve"] == rep["curve"] and back["texts"] == rep["texts"] and back["roles"] == rep["roles"]
    assert np.allclose(back["diagnostics"][0]["entropy"], rep["diagnostics"][0]["entropy"])
    assert np.allclose(back["similarity"][0], rep["similarity"][0]) and back["similarity"][0].shape == (4, 4)
    assert np.allclose(back["position_hits"][0], rep["position_hits"][0])
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b" ")  # other weights: the report no longer applies
    assert lab_file.load(folder) is None
    (folder / lab_file.NAME).write_text("{not json")
    assert lab_file.load(folder) is None


def test_the_shipped_minilm_reports_belong_to_the_shipped_weights():
    """`make models` retrains the heads and measures them again; a stale lab.json would be silently recomputed."""
    for name in ("minilm-tweets", "minilm-bbc"):
        rep = lab_file.load(MODELS_DIR / name)
        assert rep is not None, name
        assert len(rep["rows"]) == 72 and rep["curve"][0][0] == 72 and rep["curve"][-1][0] == 0
        assert len(rep["diagnostics"]) == 6 and rep["similarity"][5].shape == (12, 12)

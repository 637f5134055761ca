"""Fault catalogue, part 2: broken checkpoints (run folders damaged on disk).

Every case names a fault, the message a person sees, and checks that nothing was lost: no code from
a pickle ran, the files on disk are unchanged, other runs still load and the app still works.
Part 1 (sentences, CSV uploads) is tests/faults/test_faults_input.py; part 3 (training, restarts) is
tests/faults/test_faults_training.py.
"""

import io
import json
import pickle
import random
import struct
from pathlib import Path

import pytest
import torch
from kit import files, new_app, save_old_run

from attention.training.checkpoints import CheckpointError, load_run

torch.set_num_threads(1)
pytestmark = pytest.mark.usefixtures("runs_dir")  # every case: a fresh runs folder (tests/conftest.py)


# --- checkpoints ------------------------------------------------------------------------------


class Payload:
    """Unpickling this runs code: it would create the marker file named in MARKER."""

    MARKER = ""

    def __reduce__(self):
        return (exec, (f"open({self.MARKER!r}, 'w').write('pwned')",))


def set_config(**model):
    def damage(run):
        c = json.loads((run / "config.json").read_text())
        c["model"].update(model)
        (run / "config.json").write_text(json.dumps(c))

    return damage


def write(name, data):
    return lambda run: (run / name).write_bytes(data() if callable(data) else data)


def truncate(run):
    (run / "model.safetensors").write_bytes((run / "model.safetensors").read_bytes()[:100])


def remove(name):
    return lambda run: (run / name).unlink()


def pickled_bin_instead(run):
    (run / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    (run / "model.safetensors").unlink()


def torch_zip_with_payload():
    buf = io.BytesIO()
    torch.save({"w": Payload()}, buf)
    return buf.getvalue()


CHECKPOINTS = [  # id, what is done to a good run folder, expected fragment of the CheckpointError
    ("corrupt safetensors", write("model.safetensors", random.Random(0).randbytes(4000)), "is corrupt"),
    ("truncated safetensors", truncate, "is corrupt"),
    ("header claims 2**60 bytes", write("model.safetensors", struct.pack("<Q", 2**60) + b"{}"), "is corrupt"),
    ("pickle with code as safetensors", write("model.safetensors", lambda: pickle.dumps([Payload()])), "is corrupt"),
    ("torch.save zip with code as safetensors", write("model.safetensors", torch_zip_with_payload), "is corrupt"),
    ("pickled pytorch_model.bin instead", pickled_bin_instead, "model.safetensors is missing"),
    ("missing config.json", remove("config.json"), "config.json is missing"),
    ("config.json is not JSON", write("config.json", b"{not json"), "config.json in"),
    ("config.json is a JSON list", write("config.json", b"[1, 2]"), "is not a JSON object (list)"),
    ("wrong shapes: d_model 32 in config", set_config(d_model=32), "does not match its config"),
    ("wrong shapes: 3 outputs, 2 class names", set_config(num_classes=3), "names 2 classes but the model has 3"),
    (
        "vocab.json longer than the embedding",
        write("vocab.json", b'["<pad>", "<unk>", "a", "b", "c", "d"]'),
        "vocab.json has 6 words but the model expects 5",
    ),
    ("zero heads in config", set_config(num_heads=0), "is unusable"),
    ("dropout 2 in config", set_config(dropout=2.0), "dropout must be at least 0 and below 1, got 2.0"),
    ("missing vocab.json", remove("vocab.json"), "is unusable"),
]
DAMAGE = {c[0]: c[1] for c in CHECKPOINTS}


@pytest.mark.parametrize("case, damage, fragment", CHECKPOINTS, ids=[c[0] for c in CHECKPOINTS])
def test_a_broken_checkpoint_is_refused_without_running_code_or_touching_files(case, damage, fragment, runs_dir):
    Payload.MARKER = str(runs_dir.parent / "PWNED")
    damage(save_old_run(runs_dir, "broken"))
    good = save_old_run(runs_dir, "good")
    before = files(runs_dir)
    with pytest.raises(CheckpointError) as e:
        load_run(runs_dir / "broken")
    assert fragment in str(e.value)
    assert not Path(Payload.MARKER).exists()  # the pickle's code never ran
    assert files(runs_dir) == before  # loading never "repairs" or deletes anything
    assert load_run(good).classes == ["neg", "pos"]  # its neighbour still loads


PAGES = [  # a broken run picked in the app: id, what Explore says
    ("corrupt safetensors", "Could not load broken: model.safetensors in"),
    ("zero heads in config", "Could not load broken: config or vocabulary in"),  # was a ZeroDivisionError traceback
    ("vocab.json longer than the embedding", "vocab.json has 6 words"),  # was an IndexError on the first sentence
    ("config.json is a JSON list", "There is no model called “broken”"),  # was an AttributeError on every page
]


@pytest.mark.parametrize("case, message", PAGES, ids=[p[0] for p in PAGES])
def test_a_broken_run_shows_its_reason_on_explore_and_train_and_the_app_keeps_working(case, message, runs_dir):
    DAMAGE[case](save_old_run(runs_dir, "broken"))
    before = files(runs_dir)
    at = new_app()
    at.query_params["model"], at.query_params["text"] = "broken", "good film"
    at.run()
    assert not at.exception
    assert message in " ".join(e.value for e in [*at.error, *at.warning])
    at.selectbox(key="model").set_value("tweets-4h").run()  # another model still works
    assert not at.exception and at.metric
    at.switch_page("pages/train.py").run()
    at.selectbox(key="run_pick").set_value("broken").run()
    assert not at.exception and "This run can't be loaded" in at.error[0].value
    assert at.get("download_button")  # the files can still be taken away
    assert files(runs_dir) == before


def test_the_payload_would_run_if_unpickled(tmp_path):
    """The control for the cases above: unpickling the payload does create the marker."""
    Payload.MARKER = str(tmp_path / "PWNED")
    pickle.loads(pickle.dumps(Payload()))
    assert Path(Payload.MARKER).exists()

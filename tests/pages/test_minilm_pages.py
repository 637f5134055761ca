"""The pretrained encoder on every page (AppTest): 6 layers x 12 heads of word pieces, [CLS] and [SEP] shown and
explained, every head at a glance, rollout, words merged on request, Inside a head at d_k 32, the lab's 72 heads."""

import json

import numpy as np
from kit import app, canvas

from attention.analysis.sentence import analyze
from attention.analysis.views import merge_pieces, rollout, word_groups
from attention.training.checkpoints import MODELS_DIR, load_run

TEXT = "unbelievably rude staff"


def by_key(at, key):
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if key in c.proto.id)


def test_explore_shows_pieces_specials_every_head_and_rollout():
    at = app(model="minilm-tweets", text=TEXT).run()
    assert not at.exception
    assert at.metric[0].value in ("negative", "neutral", "positive")
    assert any("[CLS] and [SEP]" in c.value for c in at.caption)
    assert "Switch heads off: 0 of 72 chosen" in [e.label for e in at.expander]  # 72 pills folded away
    grid, _ = canvas(at, "grid")
    cols = grid["cols"][0]
    assert len(grid["titles"]) == 12 + 1 and cols[0] == "0:[CLS]" and cols[-1].endswith("[SEP]")
    assert any("##" in x for x in cols)  # the pieces as the model read them
    run = load_run(MODELS_DIR / "minilm-tweets")
    a = analyze(run.model, run.tokenizer, TEXT)
    overview, thumbs = canvas(at, "overview")
    assert overview["titles"][0] == "L1H1" and overview["titles"][-1] == "L6H12"
    assert overview["click"] and overview["ticks"] is False  # thumbnails: clicked to enlarge, no axis labels
    assert np.allclose(thumbs[-1], a.weights[5][11], atol=1e-5)  # short: one cell per weight, layer 6 head 12
    _, across = canvas(at, "across")
    assert np.allclose(across[1], rollout(a.weights), atol=1e-5)


def test_words_not_pieces_merges_every_figure_and_the_layer_picker_moves():
    at = app(model="minilm-tweets", text=TEXT).run()
    at.toggle(key="merge").set_value(True)
    at.segmented_control(key="layer").set_value(4).run()  # one rerun: AppTest's second rerun resets the picker
    assert not at.exception
    grid, weights = canvas(at, "grid")
    assert grid["cols"] == [["0:[CLS]", "1:unbelievably", "2:rude", "3:staff", "4:[SEP]"]]
    run = load_run(MODELS_DIR / "minilm-tweets")
    a = analyze(run.model, run.tokenizer, TEXT)
    groups, _ = word_groups(a.tokens, a.words)
    assert np.allclose(weights[0], merge_pieces(a.weights[3][0], groups), atol=1e-5)  # layer 4, head 1
    assert "Layer 4" in " ".join(h.value for h in at.subheader)


def test_a_switched_off_head_changes_the_prediction_computation():
    at = app(model="minilm-tweets", text=TEXT, off="L6H6,L6H11,L1H10").run()
    assert not at.exception
    assert any(m.value.startswith(("Your masks flipped", "Same class")) for m in [*at.error, *at.success])


def test_inside_a_head_steps_through_layer_3_head_5_at_d_k_32():
    at = app(model="minilm-tweets", text="not bad at all", layer="3", head="5").switch_page("pages/inside.py").run()
    assert not at.exception
    headers = " ".join(h.value for h in at.header)
    assert "X (6 × 384)" in headers and "head 5 (6 × 32 each)" in headers


def test_inside_a_head_says_layer_1s_input_is_normalised():
    at = app(model="minilm-bbc", text="markets fell", layer="1", head="1").switch_page("pages/inside.py").run()
    assert not at.exception
    assert any("LayerNorm of the sum" in m.value for m in at.markdown)


def test_heads_lab_reads_the_shipped_report_of_72_heads():
    at = app(model="minilm-bbc").switch_page("pages/heads.py").run()
    assert not at.exception
    assert any("accuracy after every 6 removals" in c.value for c in at.caption)
    cells, (grid,) = canvas(at, "ablation")
    assert cells["rows"] == [f"layer {i}" for i in range(1, 7)] and grid.shape == (6, 12)


def test_the_train_page_trains_a_head_on_minilm_from_an_upload(runs_dir):
    import time

    from kit import new_app

    from attention.app import runstore

    rows = ["text,label"] + [f"{w} {w} and {w} {i},{'pos' if i % 2 else 'neg'}" for i in range(120)
                             for w in (("lovely",) if i % 2 else ("awful",))]  # fmt: skip
    at = new_app().run().switch_page("pages/train.py").run()
    at.segmented_control(key="t_kind").set_value("minilm").run()
    assert at.number_input(key="t_head_epochs").value == 300 and not at.get("number_input") == []
    assert "t_heads" not in [n.key for n in at.number_input]  # no heads or d_model to choose: MiniLM has its own
    at.selectbox(key="t_dataset").set_value("upload").run()
    at.file_uploader[0].upload("reviews.csv", "\n".join(rows).encode(), "text/csv")
    at.run()
    at.number_input(key="t_head_epochs").set_value(20).run()
    at.button(key="start_training").click().run()
    deadline = time.monotonic() + 120
    while not any("Saved as" in s.value for s in at.success) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert not at.exception and any("Saved as" in s.value for s in at.success), [e.value for e in at.error]
    folder = runstore.list_runs(runs_dir)[0].name
    assert folder.startswith("minilm-reviews-")
    assert any("MiniLM is frozen" in c.value for c in at.caption)  # no probe heads: they never change
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any(c["data"][0].get("texttemplate") == "%{text}" for c in charts)  # the confusion matrix
    assert not list((runstore.RUNS_DIR / ".cache").glob("minilm-*"))  # an upload's embeddings stay with its job


def test_the_padding_controls_name_minilms_own_pad_token():
    at = app(model="minilm-tweets", text=TEXT, pad="14").run()
    assert not at.exception
    assert at.toggle(key="padmask").label == "Mask [PAD] keys" and "[PAD]" in at.slider(key="pad").help
    grid, _ = canvas(at, "grid")
    assert grid["cols"][0][-1].endswith("[PAD]")

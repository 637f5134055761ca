"""AppTest smoke tests for the Inside a head page."""

import json

import numpy as np
import torch
from kit import ROOT, app

from attention.app.scope import EXAMPLES
from attention.viz.packed import unpack


def inside(**params):
    return app(**params).switch_page("pages/inside.py").run()


def charts(at):
    """{first panel title: (header, values)} for every canvas of heatmaps on the page (attention.viz.packed)."""
    views = [unpack(e.proto.bytes) for e in at.get("bidi_component")]
    return {header["titles"][0]: (header, values) for header, values in views}


def test_opens_on_an_example_and_an_emptied_box_gets_a_hint():
    at = inside()
    assert not at.exception
    assert at.text_input(key="text").value == EXAMPLES["tweets"][0] and at.header[0].value.startswith("1 · The input")
    at.pills(key="example").set_value(EXAMPLES["tweets"][2]).run()  # another example is a click away
    assert at.text_input(key="text").value == EXAMPLES["tweets"][2] and "(7 × 64)" in at.header[0].value
    at.text_input(key="text").set_value("").run()
    assert not at.header and "Type a sentence" in at.info[0].value and "text" not in at.query_params


def test_three_word_sentence_shows_every_stage_with_its_shape():
    at = inside(text="great crew thanks", head="2")
    assert not at.exception
    headers = [h.value for h in at.header]
    assert headers[0] == "1 · The input to layer 1: X (3 × 64)" and headers[1].startswith(
        "2 · Queries, keys and values of head 2"
    )
    assert len(headers) == 8
    c = charts(at)
    for title in (
        "token embedding",
        "Q = X·W_q + b_q<br>(3 × 16)",
        "Q·Kᵀ (3 × 3)",
        "weights (3 × 3)",
        "weights·V (3 × 16)",
    ):
        assert title in c, sorted(map(str, c))
    max_len = json.loads((ROOT / "models/tweets-4h/config.json").read_text())["model"]["max_len"]
    assert "concatenated heads (3 × 64)" in c and "positional encoding, positions 0–2 (3 × 64)" in c
    at.toggle(key="pe_all").set_value(True).run()  # the whole table only when asked
    assert f"positional encoding, positions 0–{max_len - 1} ({max_len} × 64)" in charts(at)
    _, (weights, sums) = c["weights (3 × 3)"]
    assert np.allclose(weights.sum(axis=1), 1, atol=1e-4) and np.allclose(sums, 1, atol=1e-4)  # 16-bit weights
    table = at.table[0].value
    assert list(table["key"]) == ["0\\:great", "1\\:crew", "2\\:thanks", "sum"]  # tokens are escaped Markdown
    assert table["weight"].iloc[-1] == "1.0000"
    assert abs(sum(float(w) for w in table["weight"].iloc[:-1]) - 1) < 2e-4
    assert any("No mask is on" in m.value for m in at.markdown)
    follow = at.table[1].value  # the worked row's token, stage by stage
    assert list(follow["stage"]) == [
        "Input X",
        "Q, K, V",
        "Attention per head",
        "Concatenate",
        "Output projection",
        "Layer 1 output",
    ]
    assert list(follow["shape"])[:3] == ["3 × 64", "3 × 4 × 16 each", "4 × (3 × 16)"]


def test_masks_are_blank_and_say_masked():
    at = inside(text="great crew thanks", pad="5", causal="on", hide="1")
    assert not at.exception
    c = charts(at)
    header, values = c["after the padding mask<br>(5 × 5)"]
    assert header["titles"] == [
        "after the padding mask<br>(5 × 5)",
        "after the causal mask<br>(5 × 5)",
        "after the hidden tokens mask<br>(5 × 5)",
    ]
    blank = np.isnan(values[2])  # sent as masked: drawn blank and hatched, hover says "masked"
    assert blank[:, 1].all() and blank[:, 3:].all() and blank[0, 2]  # hidden, <pad>, and the future
    assert blank.sum() == 13 + 4 and np.nanmin(values[2]) > -1e3  # never the finfo.min fill value
    assert -header["low"] == header["high"] < 1e3  # the scale is the unmasked scores'
    assert np.isnan(values[0]).sum() == 10 and np.isnan(values[1]).sum() == 10 + 3  # <pad> columns, then the future
    assert at.query_params["causal"] == "on" and at.query_params["hide"] == "1"


def test_link_parameters_round_trip_and_bad_ones_fall_back():
    at = inside(text="my bag is lost", head="3", row="2", off="L1H1", nopos="on")
    assert not at.exception
    assert at.segmented_control(key="head").value == 3 and at.selectbox(key="row").value == 2
    query = {k: at.query_params[k] for k in at.query_params}
    assert query == dict(text="my bag is lost", head="3", row="2", off="L1H1", nopos="on")
    assert "X (4 × 64)" in charts(at)  # no positional encoding: X is the embedding alone
    bad = inside(text="good", head="9", row="x", padmask="maybe")
    assert not bad.exception
    assert bad.segmented_control(key="head").value == 1
    assert any("row" in w.value for w in bad.warning) and any("padmask" in w.value for w in bad.warning)


def test_html_in_the_sentence_is_text():
    at = inside(text="<b>hi</b> *x* [a](http://x)")
    assert not at.exception
    keys = list(at.table[0].value["key"])
    assert keys[:3] == ["0\\:\\<", "1\\:b", "2\\:\\>"] and any(
        k.endswith("\\*") for k in keys
    )  # escaped Markdown, shown as typed


def test_a_later_layer_takes_the_previous_layers_output(runs_dir):
    from attention.core.model import AttentionClassifier, ModelConfig
    from attention.core.tokenizer import Tokenizer
    from attention.training.checkpoints import save_run

    tok = Tokenizer.build(["the cat sat on the mat"], min_freq=1)
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=len(tok), num_classes=2, d_model=8, num_heads=2, num_layers=2, max_len=8, d_ff=16)
    save_run(runs_dir / "tiny-2l", AttentionClassifier(cfg).eval(), tok, ["a", "b"], dict(dataset="tiny"))
    at = inside(model="tiny-2l", text="the cat sat", layer="2", head="2")
    assert not at.exception
    assert at.header[0].value == "1 · The input to layer 2: X (3 × 8)"
    assert any("layer 1's output" in m.value for m in at.markdown)
    assert any("**Layer 2 output**" in m.value for m in at.markdown) and not at.get("plotly_chart")  # the boxes


def test_from_explore_the_sentence_and_masks_come_along_and_each_link_is_read():
    at = app(text="great crew thanks", causal="on").run()  # Explore
    at.switch_page("pages/inside.py").run()  # by the sidebar: no parameters
    assert not at.exception
    assert at.text_input(key="text").value == "great crew thanks"
    assert at.toggle(key="padmask").value and at.toggle(key="causal").value  # not reset by the page change
    for head in ("2", "3"):  # Explore's link, twice in one session: each time its head is shown
        at.switch_page("pages/explore.py").run()
        at.query_params.update(text="my bag is lost", head=head, causal="off")
        at.switch_page("pages/inside.py").run()
        assert at.segmented_control(key="head").value == int(head)
        assert at.text_input(key="text").value == "my bag is lost" and not at.toggle(key="causal").value


def test_what_each_head_adds_matches_switching_it_off():
    from attention.analysis.contribution import head_contributions
    from attention.analysis.sentence import Masks
    from attention.training.checkpoints import load_run

    at = inside(text="great crew thanks", head="2")
    assert not at.exception
    table = next(d.value for d in at.dataframe if "probability lost (points)" in d.value.columns)
    run = load_run(ROOT / "models/tweets-4h")
    want = head_contributions(run.model, run.tokenizer, "great crew thanks", Masks())
    assert np.allclose(table["probability lost (points)"], (100 * want.d_prob[0]).round(2))
    assert (table["length of what it adds (mean over tokens)"] > 0).all()
    assert any("largest difference" in c.value and "e-0" in c.value for c in at.caption)


def test_the_heads_weight_matrices_are_drawn_when_asked():
    at = inside(text="great crew thanks", head="2")
    assert "W_q (64 × 16)" not in charts(at)
    at.toggle(key="show_w").set_value(True).run()
    weights = charts(at)
    assert "W_q (64 × 16)" in weights and "biases" in weights and not at.exception

"""AppTest smoke tests: every page runs without an exception, and the Explore page's main paths."""

import numpy as np
import pytest
from kit import app, canvas

from attention.app.scope import EXAMPLES


def test_explore_opens_on_an_example_and_an_emptied_box_gets_a_hint():
    at = app().run()
    assert not at.exception
    assert at.text_input(key="text").value == EXAMPLES["tweets"][0] and at.metric[0].value == "negative"
    at.text_input(key="text").set_value("").run()  # the person's choice: the example does not come back
    assert not at.metric and "Type a sentence" in at.info[0].value
    assert "text" not in at.query_params  # nor from the link: a reload, or the link shared, opens empty too


def test_a_link_without_a_sentence_opens_on_its_models_example():
    at = app(model="synthetic-2h").run()
    assert at.text_input(key="text").value == EXAMPLES["synthetic"][0] and at.metric
    assert app(model="tweets-2h", text="late again").run().text_input(key="text").value == "late again"


def test_sentence_gives_prediction_and_one_heatmap_per_head_plus_average():
    at = app(text="the flight was not good at all").run()
    assert not at.exception
    assert at.metric[0].value in ("negative", "neutral", "positive")
    grid, weights = canvas(at, "grid")
    assert grid["titles"] == ["head 1", "head 2", "head 3", "head 4", "average of heads"]
    bars = [p.proto.text for p in at.get("progress")]  # every class's probability, in the classes' order
    assert bars[0].startswith("**negative** · ") and bars[1].startswith("neutral · ")  # the likeliest in bold
    assert [b.split(" · ")[0].strip("*") for b in bars] == ["negative", "neutral", "positive"] and not at.get(
        "plotly_chart"
    )
    assert grid["cols"][0][:3] == ["0:the", "1:flight", "2:was"] and np.stack(weights).shape == (5, 7, 7)
    assert abs(np.stack(weights).sum(-1) - 1).max() < 1e-3  # every row of every panel sums to 1, as sent


@pytest.mark.parametrize(
    "text",
    ["   ", "x" * 5000, "✈️ vol annulé 😡 رحلة سيئة 飞机", "<script>alert(1)</script>", "\u200b\u200b"],
)
def test_bad_input_is_handled(text):
    at = app(text=text).run()
    assert not at.exception
    shown = [m.value for m in at.info] + [m.value for m in at.warning] + [m.value for m in at.metric]
    assert shown  # a hint, a warning or a prediction; never a traceback


def test_invalid_query_params_fall_back_with_a_notice():
    at = app(text="good", model="nope", pad="-3", padmask="maybe", layer="x").run()
    assert not at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "no model called" in notes and "padmask" in notes and "layer" in notes and "pad must be" in notes
    assert at.selectbox(key="model").value == "tweets-4h"


def test_masks_change_the_computation_and_are_reported():
    at = app(text="great flight", pad="8", padmask="off").run()
    assert not at.exception
    grid, _ = canvas(at, "grid")
    assert grid["cols"][0][-1] == "7:<pad>"
    assert any(m.value.startswith(("Your masks flipped", "Same class")) for m in [*at.error, *at.success])


def test_the_prediction_says_what_the_model_learned_from_and_when_to_doubt_it():
    at = app(text="the flight was not good at all").run()
    captions = " ".join(c.value for c in at.caption)
    assert "learned from about 21,000 tweets about airlines" in captions and "often misread" in captions
    assert at.metric[0].label == "Prediction" and not any("Take this one with care" in w.value for w in at.warning)
    at = app(text="zyxq blorp wibble quux flight").run()  # 4 of 5 words unknown
    assert at.metric[0].label == "Prediction (uncertain)"
    assert any("4 of its 5 words are unknown to the model" in w.value for w in at.warning)
    at = app(model="synthetic-2h", text="the dog 4 sat 3 vs 8 on a mat").run()
    assert "which side of “vs” has the larger number" in " ".join(c.value for c in at.caption)


def test_link_notices_say_what_was_expected_in_plain_words():
    at = app(text="good", layer="x", hide="a,b").run()
    notes = " ".join(w.value for w in at.warning)
    assert "layer='x' in the link: expected a whole number such as 2" in notes
    assert "hide='a,b' in the link: expected token positions such as 0,3" in notes
    assert "invalid literal" not in notes


@pytest.mark.parametrize("page", ["pages/heads.py", "pages/train.py", "pages/inside.py", "pages/learn.py"])
def test_a_bad_model_in_a_link_is_reported_on_the_page_it_opens(page):
    at = app(model="nope")
    at.switch_page(page).run()
    assert not at.exception
    assert any("There is no model called “nope”" in w.value for w in at.warning)


def test_a_link_longer_than_the_model_reads_reports_what_it_cut():
    at = app(text="ab " * 3334).run()  # 10,002 characters
    assert any("8,002 characters past the first 2,000" in w.value for w in at.warning)


def fresh_app(tmp_path, script, url_text="", painted=True):
    """Run `script` after AppTest runs of app.py in a fresh interpreter, as a new server's first session: the page
    drawn, then (if `painted`, as the browser reports once it has drawn it) the model loaded
    (ui.server.model_may_load). Returns the output lines."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    prelude = (
        "import sys\nfrom streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(root / 'app.py')!r}, default_timeout=120)\n"
        f"at.query_params.update({url_text!r} and dict(text={url_text!r}, model='minilm-tweets'))\n"
        "at.user = dict(is_logged_in=True, sub='first', email='first@example.com')\nat.run()\n"
    )
    prelude += "at.session_state['_page_painted'] = True\nat.run()\n" if painted else ""
    env = dict(os.environ, ATTENTION_RUNS_DIR=str(tmp_path), PYTHONPATH=str(root))
    cmd = [sys.executable, "-c", prelude + script]
    out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()


def test_a_fresh_servers_first_run_draws_the_page_and_its_example_without_torch(tmp_path):
    """Importing torch while the browser still loads the page's scripts delayed a first paint by as long (about
    1.3 s): a fresh server's first run draws the page, the sidebar's model (from its JSON) and the example, no more.
    tests/browser/test_e2e_first_visit.py checks that the browser then has the model loaded."""
    script = (
        "print(len(at.exception), at.text_input(key='text').value, len(at.metric), 'test accuracy' in "
        "' '.join(c.value for c in at.sidebar.caption), 'torch' in sys.modules)\n"
    )
    assert fresh_app(tmp_path, script, painted=False)[-1] == "0 the flight was not good at all 0 True False"


def test_exploring_leaves_the_other_pages_imports_out_and_prepares_training_data_aside(tmp_path):
    """A server whose visitors only explore holds no scikit-learn, pandas or Dask (about 150 MB of 569 with MiniLM);
    the Train page's default dataset is still prepared ahead of a first training, by a process of its own."""
    import time

    heavy = "{'sklearn', 'pandas', 'distributed'}"
    script = f"print(len(at.exception), at.metric[0].value, sorted({heavy} & set(sys.modules)))\n"
    assert fresh_app(tmp_path, script, "not bad at all, I loved it")[-1] == "0 positive []"
    deadline = time.time() + 120
    while not list((tmp_path / ".cache").glob("tweets-*/data.json")) and time.time() < deadline:
        time.sleep(0.5)
    assert list((tmp_path / ".cache").glob("tweets-*/data.json")), "the tweets were not prepared"


def test_probability_bars_escape_class_names_and_fold_past_ten_classes():
    from streamlit.testing.v1 import AppTest

    def page():
        import numpy as np

        import ui

        probs = np.array([0.30, 0.01, 0.02] + [0.05] * 9 + [0.22])  # 13 classes
        ui.explore.probabilities(["**bold**"] + [f"c{i}" for i in range(1, 13)], probs / probs.sum())

    at = AppTest.from_function(page).run()
    bars = [p.proto.text for p in at.get("progress")]
    assert len(bars) == 10 and bars[0].startswith("**\\*\\*bold\\*\\*** · ")  # Markdown shown as typed, in bold
    assert "c1 ·" not in " ".join(bars) and at.caption[0].value.startswith("3 other classes: ")


def test_head_contributions_are_shown_on_request_and_match_the_analysis():
    import base64
    import json

    from attention.analysis.contribution import head_contributions
    from attention.analysis.sentence import Masks
    from attention.training.checkpoints import MODELS_DIR, load_run

    at = app(text="the flight was not good at all").run()
    assert not at.get("plotly_chart")  # off by default: Explore loads no chart library
    at.toggle(key="contrib").set_value(True).run()
    assert not at.exception
    run = load_run(MODELS_DIR / "tweets-4h")
    want = head_contributions(run.model, run.tokenizer, "the flight was not good at all", Masks())
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert bars["y"] == [f"L1H{h + 1}" for _, h, *_ in want.ranked()]
    x = np.frombuffer(base64.b64decode(bars["x"]["bdata"]), dtype=bars["x"]["dtype"])  # plotly's typed array
    assert np.allclose(x, [100 * dp for *_, dp, _ in want.ranked()], atol=1e-4) and np.abs(x).max() > 0.1
    assert at.query_params["contrib"] == "on"  # a shared link opens it too


def test_token_attributions_are_shown_on_request_and_match_the_analysis():
    from attention.analysis.attribution import attribute
    from attention.training.checkpoints import MODELS_DIR, load_run

    text = "the flight was not good at all"
    at = app(text=text, attrib="on").run()  # a shared link opens the view
    assert not at.exception
    run = load_run(MODELS_DIR / "tweets-4h")
    want = attribute(run.model, run.tokenizer, text)
    header, (rolled, weighted) = canvas(at, "rollouts")
    assert header["titles"] == ["attention rollout", "gradient-weighted rollout"]
    assert np.allclose(rolled[0], want.rollout, atol=1e-6) and np.allclose(weighted[0], want.grad_rollout, atol=1e-6)
    _, (ig,) = canvas(at, "ig")
    assert np.allclose(ig[0], want.ig, atol=1e-5) and abs(ig.sum() - (want.logit - want.baseline_logit)) < 0.01
    assert any("within 1%" in c.value for c in at.caption)


def test_patching_from_another_sentence_is_shown_and_a_length_mismatch_explained():
    from attention.analysis.patching import patch
    from attention.training.checkpoints import MODELS_DIR, load_run

    at = app(text="the food was good", patch="on", corrupt="the food was bad").run()  # as a shared link
    assert not at.exception
    run = load_run(MODELS_DIR / "tweets-4h")
    want = patch(run.model, run.tokenizer, "the food was good", "the food was bad")
    _, (heads,) = canvas(at, "patch_heads")
    header, (residual,) = canvas(at, "patch_residual")
    assert np.allclose(heads, want.heads, atol=1e-6) and np.allclose(residual, want.residual, atol=1e-6)
    assert header["cols"][0] == ["0:the", "1:food", "2:was", "3:good"] and abs(residual[0, 3] - 1) < 1e-6
    assert any("good → bad" in c.value for c in at.caption)
    at.text_input(key="corrupt").set_value("the food was not good").run()
    assert not at.exception and any("has 4 tokens and the corrupted one 5" in w.value for w in at.warning)


def test_the_learn_page_computes_its_numbers_for_the_sidebars_model_and_sentence():
    from attention.analysis.sentence import Masks
    from attention.analysis.stages import trace
    from attention.analysis.teaching import attention_cost
    from attention.training.checkpoints import MODELS_DIR, load_run

    at = app(model="tweets-4h", text="the flight was late").switch_page("pages/learn.py").run()
    assert not at.exception
    cost = at.dataframe[0].value
    assert list(cost["heads"]) == [1, 2, 4, 8] and list(cost["multiply-adds"]) == [
        attention_cost(64, h, 4)["multiply_adds"] for h in (1, 2, 4, 8)
    ]
    run = load_run(MODELS_DIR / "tweets-4h")
    t = trace(run.model, run.tokenizer, "the flight was late", Masks(), 0, 0)
    said = " ".join(m.value for m in at.markdown)
    assert f"variance **{t.scores.var():.2f}**" in said and f"the scaled ones **{t.scaled.var():.2f}**" in said
    assert len(at.get("plotly_chart")) == 3  # dot products, one row, positional curves
    header, (sim,) = canvas(at, "positions")
    assert sim.shape == (64, 64) and abs(sim[0, 0] - 32) < 1e-4  # sin² + cos² over 32 pairs of dimensions


@pytest.mark.parametrize("page", ["pages/explore.py", "pages/inside.py", "pages/heads.py", "pages/learn.py"])
def test_the_glossary_is_in_every_pages_sidebar(page):
    at = app(model="tweets-4h").switch_page(page).run()
    assert not at.exception
    (folded,) = [e for e in at.sidebar.expander if e.label == "Glossary"]
    said = folded.markdown[0].value
    for term in ("query, key, value", "softmax", "head", "d_k", "mask", "logit", "ablation"):
        assert f"**{term}**" in said, term


def test_the_learn_page_takes_any_d_k_and_says_when_the_sentence_has_no_words():
    at = app(model="tweets-4h", text="\u200b\u200b").switch_page("pages/learn.py").run()
    assert not at.exception and any("no words the model can read" in i.value for i in at.info)
    assert at.select_slider[0].value == 16  # tweets-4h: 64 / 4


def test_all_heads_in_one_colour_each_follow_the_strongest_head():
    import json

    from attention.analysis.sentence import analyze
    from attention.analysis.views import strongest_head
    from attention.training.checkpoints import MODELS_DIR, load_run

    at = app(model="tweets-8h", text="the animal was too tired").run()
    at.toggle(key="colours").set_value(True).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    run = load_run(MODELS_DIR / "tweets-8h")
    head, weight = strongest_head(analyze(run.model, run.tokenizer, "the animal was too tired").weights[0])
    assert np.allclose(spec["z"], (head + weight.clip(0, 0.999999)) / 8, atol=1e-6)
    assert np.array(spec["customdata"])[0, 0] == f"head {head[0, 0] + 1}"

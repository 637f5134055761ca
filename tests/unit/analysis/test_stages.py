"""attention.stages: the step-by-step recomputation equals the model's own forward pass, for every mask.

Also the canvas heatmaps' messages made for it: masked cells are sent as masked, never as the fill value.
"""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from attention.analysis.sentence import Masks, analyze, resolve
from attention.analysis.stages import encode, positions_table, trace, worked_row
from attention.app.stage_tables import follow_table, pipeline, worked_table
from attention.core.model import AttentionClassifier, ModelConfig, sinusoidal_table
from attention.core.tokenizer import Tokenizer
from attention.training.checkpoints import load_run
from attention.viz import style
from attention.viz.packed import pack, unpack

ROOT = Path(__file__).resolve().parents[3]
TOK = Tokenizer.build(["the cat sat on the mat", "a dog ran", "the dog sat"], min_freq=1)
TOL = 1e-6
# every combination of: padding (with its mask on/off), causal, a hidden token, a switched-off head, positions
MASKS = [
    Masks(pad_to=pad, pad_mask=pm, causal=c, hidden=hid, removed_heads=off, positional=pos)
    for pad, pm, c, hid, off, pos in itertools.product(
        (0, 6), (True, False), (False, True), ((), (1,)), ((), ((0, 1),)), (True, False)
    )
]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one torch thread is faster than two fighting over a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def model(**kw):
    torch.manual_seed(0)
    cfg = dict(vocab_size=len(TOK), num_classes=3, d_model=16, num_heads=4, num_layers=2, max_len=12, dropout=0.0)
    m = AttentionClassifier(ModelConfig(**(cfg | kw))).eval()
    with torch.no_grad():  # biases start at 0; make them count, so a missing bias would fail the tests
        for p in m.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.3)
    return m


def forward_with_taps(m, tok, text, masks):
    """The model's own forward pass, recording each layer's concatenated heads, attention output and block output."""
    taps = {}
    hooks = []
    for i, block in enumerate(m.blocks):
        hooks.append(
            block.attn.out_proj.register_forward_hook(lambda _m, a, o, i=i: taps.__setitem__(("cat", i), a[0]))
        )
        hooks.append(block.attn.register_forward_hook(lambda _m, a, o, i=i: taps.__setitem__(("attn", i), o[0])))
        hooks.append(block.register_forward_hook(lambda _m, a, o, i=i: taps.__setitem__(("block", i), o[0])))
    masks = resolve(masks, m.cfg)
    _, _, ids, kpm, attn, head_mask = encode(m, tok, text, masks)
    try:
        with torch.inference_mode():
            logits, weights = m(ids, kpm, attn, masks.causal, True, head_mask, masks.positional)
    finally:
        for h in hooks:
            h.remove()
    return logits.softmax(-1)[0].numpy(), weights, taps


def close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and float(np.abs(a - b).max()) <= tol


@pytest.mark.parametrize(
    "masks",
    MASKS,
    ids=lambda m: f"pad{m.pad_to}-{m.pad_mask}-c{m.causal}-h{m.hidden}-off{len(m.removed_heads)}-pos{m.positional}",
)
def test_recomputed_head_and_output_equal_the_forward_pass(masks):
    m = model(d_ff=32)  # two layers with feed-forward: layer 2's input is layer 1's post-norm output
    probs, weights, taps = forward_with_taps(m, TOK, "the cat sat", masks)
    for layer in range(2):
        for head in range(4):
            s = trace(m, TOK, "the cat sat", masks, layer, head)
            d_k = s.d_k
            want_head = taps[("cat", layer)][0, :, head * d_k : (head + 1) * d_k]  # the module's head output
            assert close(s.head_out, want_head), (layer, head)
            assert close(s.weights, weights[layer][0, head])
            assert close(s.concat, taps[("cat", layer)][0])
            assert close(s.output, taps[("attn", layer)][0])
            assert close(s.block_out, taps[("block", layer)][0])
            assert close(s.probs, probs)
            assert not np.isnan(s.weights).any() and not np.isnan(s.output).any()


def test_shipped_model_matches_for_every_mask_combination():
    run = load_run(ROOT / "models" / "tweets-4h")
    m, text = run.model, "the flight was not good"
    for masks in MASKS:
        probs, weights, taps = forward_with_taps(m, run.tokenizer, text, masks)
        for head in range(4):
            s = trace(m, run.tokenizer, text, masks, 0, head)
            assert close(s.head_out, taps[("cat", 0)][0, :, head * 16 : (head + 1) * 16])
            assert close(s.weights, weights[0][0, head])
        assert close(s.output, taps[("attn", 0)][0]) and close(s.probs, probs)


def test_same_tokens_and_prediction_as_the_explore_page():
    m = model()
    masks = Masks(pad_to=5, causal=True, hidden=(0,))
    s, a = trace(m, TOK, "the zebra sat", masks, 1, 2), analyze(m, TOK, "the zebra sat", masks)
    assert s.tokens == a.tokens == ["the", "zebra", "sat", "<pad>", "<pad>"]
    assert s.unknown == a.unknown and s.ids[1] == TOK.unk_id and s.ids[3:] == [0, 0]
    assert close(s.probs, a.probs) and close(s.weights, a.weights[1][2])


def test_notation_x_times_w_plus_bias():
    m = model()
    s = trace(m, TOK, "a dog ran", Masks(), 0, 1)
    attn = m.blocks[0].attn
    rows = slice(4, 8)  # head 2 of 4, d_k = 4
    assert close(s.w_q, attn.q_proj.weight.detach().T[:, rows].numpy())  # W_q = q_proj.weight.T, this head's columns
    assert close(s.b_v, attn.v_proj.bias.detach()[rows].numpy())
    assert close(s.q, s.x @ s.w_q + s.b_q, 1e-5) and close(s.v, s.x @ s.w_v + s.b_v, 1e-5)
    assert not close(s.q, s.x @ s.w_q, 1e-3)  # the bias is part of Q
    assert close(s.scores, s.q @ s.k.T, 1e-5) and close(s.scaled, s.scores / 2.0)  # √d_k = √4
    assert close(s.w_o, attn.out_proj.weight.detach().T.numpy())
    # the output is every head's share added up, plus b_o
    shares = sum(trace(m, TOK, "a dog ran", Masks(), 0, h).share for h in range(4))
    assert close(shares + s.b_o, s.output, 1e-5)


def test_layer_input_embedding_and_positions():
    m = model()
    s = trace(m, TOK, "the cat sat", Masks(), 0, 0)
    assert close(s.embedding + s.position, s.x) and close(s.position, sinusoidal_table(12, 16)[:3].numpy())
    bare = trace(m, TOK, "the cat sat", Masks(positional=False), 0, 0)
    assert bare.position is None and close(bare.x, bare.embedding)
    upper = trace(m, TOK, "the cat sat", Masks(), 1, 0)
    assert upper.embedding is None and upper.position is None and close(upper.x, s.block_out)


def test_positions_table_for_each_kind():
    assert close(positions_table(model()), sinusoidal_table(12, 16).numpy())
    learned = model(positional="learned")
    assert close(positions_table(learned), learned.pos.weight.detach().numpy())
    assert positions_table(model(positional="none")) is None
    assert trace(model(positional="none"), TOK, "the cat", Masks(), 0, 0).position is None


def test_mask_steps_add_up_in_order_and_masked_weights_are_zero():
    m = model()
    s = trace(m, TOK, "the cat sat", Masks(pad_to=5, causal=True, hidden=(1,)), 0, 0)
    assert [step.name for step in s.mask_steps] == ["padding", "causal", "hidden tokens"]
    assert s.mask_steps[0].blocks[:, 3:].all() and not s.mask_steps[0].blocks[:, :3].any()
    assert (s.mask_steps[1].total == (s.mask_steps[0].blocks | np.triu(np.ones((5, 5), bool), 1))).all()
    assert (s.mask_steps[-1].total == s.mask).all() and s.mask[:, 1].all()
    assert (s.weights[s.mask] == 0).all()
    assert close(s.row_sums[:, 0], np.ones(5))  # every query keeps at least key 0
    assert trace(m, TOK, "the cat", Masks(), 0, 0).mask_steps == []


def test_fully_masked_rows_give_zeros_not_nan():
    m = model()
    s = trace(m, TOK, "the cat sat", Masks(hidden=(0, 1, 2)), 0, 3)
    assert s.mask.all() and (s.weights == 0).all() and not np.isnan(s.output).any()
    w = worked_row(s, 1)
    assert w.total == 0 and (w.weights == 0).all()


@pytest.mark.parametrize("masks", [Masks(), Masks(pad_to=6, causal=True), Masks(hidden=(0,), pad_to=4, pad_mask=False)])
def test_worked_row_matches_the_heatmap(masks):
    m = model()
    s = trace(m, TOK, "the dog sat on", masks, 1, 1)
    for q in range(len(s.tokens)):
        w = worked_row(s, q)
        assert close(w.weights, s.weights[q]) and abs(w.weights.sum() - s.row_sums[q, 0]) < TOL
        assert abs(w.total - w.exps.sum()) < 1e-12 and (w.exps[w.masked] == 0).all()
        assert w.exps.max() == 1.0  # exp(max - max): the largest score was subtracted
        table = worked_table(w, s.tokens)
        assert [r["key"] for r in table] == [f"{i}:{t}" for i, t in enumerate(s.tokens)] + ["sum"]
        assert table[-1]["weight"] == "1.0000" and table[-1]["exp(s − max)"] == f"{w.total:.4f}"
        _, (sent,) = unpack(pack([s.weights], s.tokens, ["w"], masked=[s.mask]))  # what hover formats, "%.4f"
        hover = ["0" if np.isnan(x) else f"{x:.4f}" for x in sent[q]]
        assert [r["weight"] for r in table[:-1]] == hover  # the table and hover show the same digits
        assert all(r["score s"] == "masked" for r, k in zip(table, w.masked) if k)


def test_pipeline_boxes_carry_this_models_shapes():
    s = trace(model(), TOK, "the cat sat", Masks(), 1, 0)
    boxes = pipeline(s, token=2)
    assert [b.shape for b in boxes] == ["3 × 16", "3 × 4 × 4 each", "4 × (3 × 4)", "3 × 16", "3 × 16", "3 × 16"]
    assert boxes[0].formula == "output of layer 1" and close(boxes[-1].values, s.block_out[2])
    assert close(boxes[1].values, s.q[2]) and boxes[1].part == "head 1's query"
    rows = follow_table(boxes, first=2)
    assert [r["stage"] for r in rows][::5] == ["Input X", "Layer 2 output"]
    assert rows[0]["numbers"] == f"[{s.x[2, 0]:.3f}, {s.x[2, 1]:.3f} … (16 numbers)]"


def test_heatmaps_send_masked_cells_as_masked_and_the_scale_from_the_rest():
    s = trace(model(), TOK, "the cat sat", Masks(pad_to=4, causal=True), 0, 0)
    labels = style.axis_labels(s.tokens)
    blob = pack([s.scaled, s.row_sums], labels, ["scaled (4 × 4)", "sums"], [labels, ["Σ"]], [s.mask, None], "value")
    header, (z, sums) = unpack(blob)
    assert np.isnan(z[s.mask]).all() and np.isfinite(z[~s.mask]).all()  # never the finfo.min fill value
    assert np.allclose(z[~s.mask], s.scaled[~s.mask]) and np.allclose(sums, s.row_sums)
    assert header["titles"] == ["scaled (4 × 4)", "sums"] and header["cols"] == [labels, ["Σ"]]
    top = max(np.abs(s.scaled[~s.mask]).max(), np.abs(s.row_sums).max())  # one scale, from unmasked cells only
    assert -header["low"] == header["high"] == pytest.approx(top)
    header, _ = unpack(pack([s.weights], labels, ["w"], masked=[s.mask]))
    assert (header["low"], header["high"]) == (0, 1)


def test_minilm_stages_equal_its_forward_pass_on_every_layer():
    """The pretrained encoder (post-norm BERT blocks, d_k 32, LayerNorm after the embeddings) through the same
    recomputation: every layer, the first and last head, a spread of mask combinations."""
    run = load_run(ROOT / "models" / "minilm-bbc")
    m, text = run.model, "markets fell"  # [CLS] markets fell [SEP]: pad_to 6 adds two [PAD]
    for masks in MASKS[::5]:
        probs, weights, taps = forward_with_taps(m, run.tokenizer, text, masks)
        for layer in range(6):
            for head in (0, 11):
                s = trace(m, run.tokenizer, text, masks, layer, head)
                assert s.d_k == 32 and s.embed_norm
                assert close(s.head_out, taps[("cat", layer)][0, :, head * 32 : (head + 1) * 32], 1e-5)
                assert close(s.weights, weights[layer][0, head], 1e-5)
                assert close(s.block_out, taps[("block", layer)][0], 1e-5), (masks, layer, head)
            assert close(s.probs, probs, 1e-5)
    s = trace(m, run.tokenizer, text, Masks(), 0, 0)
    assert s.tokens == ["[CLS]", "markets", "fell", "[SEP]"]
    with torch.inference_mode():
        x = m.encoder.norm(torch.from_numpy(s.embedding + s.position)).numpy()
    assert close(s.x, x, 1e-5) and not close(s.x, s.embedding + s.position, 1e-2)

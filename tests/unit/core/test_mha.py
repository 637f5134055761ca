"""MultiHeadAttention against torch's nn.MultiheadAttention and F.scaled_dot_product_attention."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from attention.core.mha import MultiHeadAttention, attention, merge_masks

B, T, D = 3, 7, 32
MASKS = ["none", "padding", "causal", "attn_mask", "padding+causal", "padding+attn_mask", "all"]


def make_masks(kind, gen):
    """Masks for torch and for us, all True = may not attend. No row is entirely masked."""
    kpm = attn = None
    causal = "causal" in kind or kind == "all"
    if "padding" in kind or kind == "all":
        kpm = torch.zeros(B, T, dtype=torch.bool)
        kpm[1, 5:] = True
        kpm[2, 3:] = True
    if "attn_mask" in kind or kind == "all":
        attn = torch.rand(T, T, generator=gen) < 0.3
        attn[:, 0] = False  # every query keeps key 0
    return kpm, attn, causal


def torch_reference(m, x, kpm, attn, causal):
    mask = attn
    if causal:
        c = torch.ones(T, T, dtype=torch.bool).triu(1)
        mask = c if mask is None else mask | c
    return m(x, x, x, key_padding_mask=kpm, attn_mask=mask, need_weights=True, average_attn_weights=False)


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
@pytest.mark.parametrize("kind", MASKS)
def test_matches_torch_multihead_attention(heads, kind):
    gen = torch.Generator().manual_seed(heads * 100 + MASKS.index(kind))
    torch.manual_seed(heads)
    ref = nn.MultiheadAttention(D, heads, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(ref).eval()
    x = torch.randn(B, T, D, generator=gen)
    kpm, attn, causal = make_masks(kind, gen)
    want_out, want_w = torch_reference(ref, x, kpm, attn, causal)
    out, w = ours(x, x, x, key_padding_mask=kpm, attn_mask=attn, is_causal=causal)
    assert w.shape == (B, heads, T, T)
    assert (out - want_out).abs().max() <= 1e-5
    assert (w - want_w).abs().max() <= 1e-5
    fast, none = ours(x, x, x, key_padding_mask=kpm, attn_mask=attn, is_causal=causal, need_weights=False)
    assert none is None
    assert (fast - out).abs().max() <= 1e-5


@pytest.mark.parametrize("heads", [1, 4])
def test_weights_rows_sum_to_one_and_masked_keys_get_zero(heads):
    m = MultiHeadAttention(D, heads).eval()
    x = torch.randn(B, T, D)
    kpm = torch.zeros(B, T, dtype=torch.bool)
    kpm[0, 4:] = True
    _, w = m(x, x, x, key_padding_mask=kpm, is_causal=True)
    assert torch.allclose(w.sum(-1), torch.ones(B, heads, T), atol=1e-6)
    assert (w[0, :, :, 4:] == 0).all()
    assert (w.triu(1) == 0).all()  # causal: nothing above the diagonal


def test_fully_masked_rows_give_zero_not_nan():
    m = MultiHeadAttention(D, 4).eval()
    x = torch.randn(B, T, D)
    kpm = torch.zeros(B, T, dtype=torch.bool)
    kpm[1] = True  # every key of sequence 1 masked
    attn = torch.zeros(T, T, dtype=torch.bool)
    attn[2] = True  # query 2 may see nothing
    out, w = m(x, x, x, key_padding_mask=kpm, attn_mask=attn)
    fast, _ = m(x, x, x, key_padding_mask=kpm, attn_mask=attn, need_weights=False)
    assert not out.isnan().any() and not w.isnan().any() and not fast.isnan().any()
    assert (w[1] == 0).all() and (w[:, :, 2] == 0).all()
    assert torch.allclose(fast, out, atol=1e-5)
    # a blocked row still gets the output projection's bias, exactly as if its heads output zero
    assert torch.allclose(out[1], m.out_proj.bias.expand(T, D), atol=1e-6)


def test_gradients_finite_with_fully_masked_rows():
    m = MultiHeadAttention(D, 2)
    x = torch.randn(B, T, D, requires_grad=True)
    kpm = torch.zeros(B, T, dtype=torch.bool)
    kpm[0] = True
    for need_weights in (True, False):
        out, _ = m(x, x, x, key_padding_mask=kpm, need_weights=need_weights)
        out.sum().backward()
        assert torch.isfinite(x.grad).all()
        assert all(torch.isfinite(p.grad).all() for p in m.parameters())
        x.grad = None
        m.zero_grad()


def test_attention_function_matches_sdpa_and_hand_computed_case():
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 6, 8), torch.randn(2, 3, 6, 8)
    mask = torch.rand(5, 6) < 0.3
    mask[:, 0] = False
    out, _ = attention(q, k, v, mask)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=~mask), atol=1e-6)
    # one query, two keys, d_k = 1: scores 1*1/1 and 1*3/1 -> softmax(1, 3)
    q1, k1, v1 = torch.tensor([[[[1.0]]]]), torch.tensor([[[[1.0], [3.0]]]]), torch.tensor([[[[10.0], [20.0]]]])
    out1, w1 = attention(q1, k1, v1)
    e1, e3 = math.exp(1), math.exp(3)
    assert w1.flatten().tolist() == pytest.approx([e1 / (e1 + e3), e3 / (e1 + e3)], abs=1e-6)
    assert out1.item() == pytest.approx(10 * e1 / (e1 + e3) + 20 * e3 / (e1 + e3), abs=1e-5)


@pytest.mark.parametrize("removed", [[0], [1, 3], [0, 1, 2, 3]])
def test_head_mask_zeroes_exactly_the_chosen_heads(removed):
    torch.manual_seed(0)
    m = MultiHeadAttention(D, 4).eval()
    x = torch.randn(B, T, D)
    head_mask = torch.ones(4)
    head_mask[removed] = 0
    out, _ = m(x, x, x, head_mask=head_mask)
    # recompute: per-head outputs with the removed heads' d_k slice zeroed before out_proj
    q, k, v = (m.split_heads(p(x)) for p in (m.q_proj, m.k_proj, m.v_proj))
    heads, _ = attention(q, k, v)  # (B, H, T, d_k)
    heads[:, removed] = 0
    want = m.out_proj(heads.transpose(1, 2).reshape(B, T, D))
    assert torch.allclose(out, want, atol=1e-6)
    kept = [h for h in range(4) if h not in removed]
    if kept:  # removing heads changes the output
        full, _ = m(x, x, x)
        assert not torch.allclose(out, full)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(30, 4)
    m = MultiHeadAttention(D, 4)
    x = torch.randn(1, T, D)
    with pytest.raises(TypeError, match="boolean"):
        m(x, x, x, attn_mask=torch.zeros(T, T))


@pytest.mark.parametrize("need_weights", [True, False])
def test_the_causal_mask_is_built_on_the_inputs_device(need_weights):
    mha = MultiHeadAttention(8, 2).to("meta")
    x = torch.empty(2, 5, 8, device="meta")
    out, weights = mha(x, x, x, is_causal=True, need_weights=need_weights)
    assert out.device.type == "meta" and out.shape == (2, 5, 8)
    assert merge_masks((2, 2, 5, 5), is_causal=True, device=x.device).device.type == "meta"

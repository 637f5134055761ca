"""MiniLM through our own attention equals transformers' BertModel on the same files: every layer's hidden states
(at every real token) and every head's attention weights within 1e-5, with and without padding, up to 512 tokens."""

import pytest
import torch

from attention.data.pretrained import load_minilm, minilm_folder

SENTENCES = [
    "not bad at all",
    "I expected to hate it, but honestly I loved every minute of the film.",
    "The flight was delayed twice; the crew were kind and the snacks were great!",
    "Schrödinger's café — naïve résumés?",  # accents are stripped, unknown pieces split
]
LONG = " ".join(["the quick brown fox jumps over the lazy dog while the band plays on"] * 60)  # cut at 512


@pytest.fixture(scope="module")
def models():
    import transformers  # the reference, a test-only dependency (requirements-dev.txt); slow to import

    reference = transformers.BertModel.from_pretrained(str(minilm_folder()), attn_implementation="eager")
    encoder, pieces = load_minilm()
    return encoder, pieces, reference.eval()


def batch(pieces, texts):
    """Ids padded with [PAD] to the longest, and the padding mask (True = a pad key, may not be attended to)."""
    encoded = [pieces.encode(t).ids for t in texts]
    T = max(map(len, encoded))
    ids = torch.tensor([e + [pieces.pad_id] * (T - len(e)) for e in encoded])
    return ids, ids == pieces.pad_id


def compare(encoder, reference, ids, pad):
    with torch.no_grad():
        hidden, attentions = encoder(ids, key_padding_mask=pad if pad.any() else None)
        ref = reference(ids, attention_mask=(~pad).long(), output_hidden_states=True, output_attentions=True)
    assert len(hidden) == len(ref.hidden_states) == 7 and len(attentions) == len(ref.attentions) == 6
    for ours, theirs in zip(hidden, ref.hidden_states):
        torch.testing.assert_close(ours[~pad], theirs[~pad], atol=1e-5, rtol=0)
        # A [PAD] position's state is never read (pooling and every view skip it), and float rounding in the six
        # layers reaches it more: measured up to 3e-5 there, at most 5e-6 at real tokens.
        torch.testing.assert_close(ours[pad], theirs[pad], atol=1e-4, rtol=0)
    for ours, theirs in zip(attentions, ref.attentions):
        assert ours.shape == theirs.shape and ours.shape[1] == 12
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


@pytest.mark.parametrize("text", SENTENCES)
def test_one_sentence_matches_bert_in_every_layer_and_head(models, text):
    encoder, pieces, reference = models
    compare(encoder, reference, *batch(pieces, [text]))


def test_a_padded_batch_matches_bert_and_pads_get_no_weight(models):
    encoder, pieces, reference = models
    ids, pad = batch(pieces, SENTENCES)
    assert pad.any()
    compare(encoder, reference, ids, pad)
    _, attentions = encoder(ids, key_padding_mask=pad)
    assert all((w.masked_select(pad[:, None, None, :]) == 0).all() for w in attentions)


def test_512_tokens_match_bert(models):
    encoder, pieces, reference = models
    enc = pieces.encode(LONG)
    assert len(enc.ids) == 512 and enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    compare(encoder, reference, *batch(pieces, [LONG]))


def test_pieces_know_their_words():
    _, pieces = load_minilm()
    enc = pieces.encode("Unbelievably good")
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]" and enc.words[0] is None
    assert len(enc.tokens) > 4  # "unbelievably" is more than one piece
    assert [w for w in enc.words[1:-1]] == sorted(w for w in enc.words[1:-1]) and set(enc.words[1:-1]) == {0, 1}


def test_a_switched_off_head_changes_the_next_layers_only_through_that_head(models):
    encoder, pieces, _ = models
    ids, _ = batch(pieces, [SENTENCES[1]])
    keep = torch.ones(6, 12)
    keep[2, 5] = 0
    with torch.no_grad():
        base, w0 = encoder(ids)
        cut, w1 = encoder(ids, head_mask=keep)
    for layer in range(3):  # layers before and at the cut see the same attention
        torch.testing.assert_close(w0[layer], w1[layer])
    torch.testing.assert_close(base[2], cut[2])  # the input to layer 3 is unchanged
    assert not torch.allclose(base[3], cut[3])  # its output is not


def test_a_classifier_on_top_goes_through_analyze_like_the_small_models(models):
    """analyze() (Explore's path) takes MiniLM with a head; its probabilities equal BertModel's mean-pooled last
    layer through the same head, and it returns all 6 layers x 12 heads of weights, [CLS] and [SEP] shown."""
    from attention import analyze
    from attention.core.bert import BertClassifier

    encoder, pieces, reference = models
    torch.manual_seed(0)
    model = BertClassifier(encoder, num_classes=3).eval()
    text = SENTENCES[1]
    a = analyze(model, pieces, text)
    ids = torch.tensor([pieces.encode(text).ids])
    with torch.no_grad():
        pooled = reference(ids).last_hidden_state.mean(dim=1)  # one sentence: no pad to leave out
        expected = model.head(pooled).softmax(-1)[0].numpy()
    assert abs(a.probs - expected).max() < 1e-5
    assert len(a.weights) == 6 and a.weights[0].shape == (12, len(ids[0]), len(ids[0]))
    assert a.tokens[0] == "[CLS]" and a.tokens[-1] == "[SEP]"
    assert not any(p.requires_grad for p in model.encoder.parameters())  # frozen: only the head trains


def test_a_text_over_the_limit_keeps_sep_last_and_counts_the_words_cut():
    _, pieces = load_minilm()
    enc = pieces.encode("one two three four five six", max_len=5)  # [CLS] one two three [SEP]
    assert enc.tokens == ["[CLS]", "one", "two", "three", "[SEP]"] and enc.truncated == 3
    assert pieces.encode("one two", max_len=5).truncated == 0
    enc = pieces.encode("I love 🦜 birds")  # a rare word splits into pieces; a character not in the vocabulary is [UNK]
    assert enc.tokens[3] == "[UNK]" and enc.unknown == [t == "[UNK]" for t in enc.tokens] and sum(enc.unknown) == 1

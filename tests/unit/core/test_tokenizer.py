import json
import re

import pytest
import torch

from attention.core.tokenizer import PAD, UNK, Encoding, Tokenizer, split_words


@pytest.mark.parametrize(
    "text, words",
    [
        ("Hello, World!! Don't", ["hello", ",", "world", "!", "!", "don't"]),
        ("don\u2019t stop", ["don't", "stop"]),  # typographic apostrophe
        ("  \t\n ", []),
        ("", []),
        ("I ❤️ NY 👍🏽!", ["i", "❤️", "ny", "👍🏽", "!"]),  # variation selector and skin tone stay attached
        ("שלום, עולם", ["שלום", ",", "עולם"]),  # right-to-left
        ("دُنْيَا جميلة", ["دُنْيَا", "جميلة"]),  # Arabic with vowel marks
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # combining marks inside words
        ("zero\u200bwidth \u200d\ufeff\u200fjoin", ["zerowidth", "join"]),  # zero-width chars dropped
        ("a\x00b", ["a", "b"]),  # control characters separate but are never tokens
        ("e\u0301te\u0301", ["été"]),
        (
            '<script>alert("x")</script>',
            ["<", "script", ">", "alert", "(", '"', "x", '"', ")", "<", "/", "script", ">"],
        ),
    ],
)
def test_split_words(text, words):
    assert split_words(text) == words


def test_split_words_never_fails_on_odd_unicode():
    text = "".join(chr(c) for c in range(0, 0x3000, 7)) + "\ud800 \U0001f468\u200d\U0001f469 \U000e0001"
    words = split_words(text)
    assert all(w and not w.isspace() for w in words)
    assert PAD not in words and UNK not in words


@pytest.fixture
def tok():
    return Tokenizer.build(["the cat sat", "the dog sat", "the cat ran"], min_freq=2)


def test_build_orders_by_frequency_then_alphabet(tok):
    assert tok.itos == [PAD, UNK, "the", "cat", "sat"]
    assert len(tok) == 5 and tok.pad_id == 0 and tok.unk_id == 1


def test_build_is_deterministic_and_respects_max_size():
    texts = ["b a c", "c b", "a d", "z y x"] * 3
    assert Tokenizer.build(texts).itos == Tokenizer.build(list(reversed(texts))).itos
    assert Tokenizer.build(texts, min_freq=1).itos[2:5] == ["a", "b", "c"]  # tie on count -> alphabetical
    assert len(Tokenizer.build(texts, min_freq=1, max_size=4)) == 4


def test_encode_marks_unknown_words(tok):
    enc = tok.encode("The cat flew!")
    assert enc.tokens == ["the", "cat", "flew", "!"]
    assert enc.ids == [2, 3, tok.unk_id, tok.unk_id]
    assert enc.unknown == [False, False, True, True]
    assert enc.truncated == 0


def test_encode_reports_truncation(tok):
    enc = tok.encode("the cat " * 10, max_len=4)
    assert len(enc.ids) == len(enc.tokens) == len(enc.unknown) == 4
    assert enc.truncated == 16
    with pytest.raises(ValueError):
        tok.encode("the", max_len=0)


def test_encode_empty_text(tok):
    assert tok.encode("  ") == Encoding([], [], [], 0)


def test_pad_shapes_and_mask(tok):
    encs = [tok.encode("the cat sat"), tok.encode(""), tok.encode("cat")]
    ids, mask = tok.pad(encs)
    assert ids.dtype == torch.long and mask.dtype == torch.bool
    assert ids.shape == mask.shape == (3, 3)
    assert ids.tolist() == [[2, 3, 4], [0, 0, 0], [3, 0, 0]]
    assert mask.tolist() == [[False, False, False], [True, True, True], [False, True, True]]
    assert torch.equal(mask, ids == tok.pad_id)


def test_pad_to(tok):
    ids, mask = tok.pad([tok.encode("the cat")], pad_to=5)
    assert ids.shape == mask.shape == (1, 5)
    assert mask.tolist() == [[False, False, True, True, True]]
    ids, _ = tok.pad([tok.encode("the cat sat")], pad_to=2)  # a smaller pad_to never cuts
    assert ids.shape == (1, 3)


def test_pad_edge_cases(tok):
    ids, mask = tok.pad([])
    assert ids.shape == mask.shape == (0, 0)
    ids, mask = tok.pad([tok.encode("")])
    assert ids.shape == mask.shape == (1, 0)


def test_encode_batch(tok):
    ids, mask = tok.encode_batch(["the cat", "sat"], max_len=8)
    assert ids.tolist() == [[2, 3], [4, 0]]
    assert mask.tolist() == [[False, False], [False, True]]


def test_json_round_trip(tok):
    tok2 = Tokenizer.from_json(tok.to_json())
    assert tok2.itos == tok.itos
    assert tok2.encode("the dog").ids == tok.encode("the dog").ids
    uni = Tokenizer([PAD, UNK, "été", "❤️"])
    assert Tokenizer.from_json(uni.to_json()).itos == uni.itos


@pytest.mark.parametrize(
    "bad, message",
    [
        ("not json", "could not be parsed"),
        ('{"a": 1}', "list of strings"),
        ("[1, 2]", "list of strings"),
        ('["<pad>", "<unk>", 3]', "list of strings"),
        ("[]", "must start with"),
        ('["<unk>", "<pad>", "a"]', "must start with"),
        ('["<pad>", "<unk>", "a", "b", "a"]', "duplicate entries: ['a']"),
    ],
)
def test_from_json_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Tokenizer.from_json(bad)


def test_to_json_is_the_itos_list(tok):
    assert json.loads(tok.to_json()) == tok.itos

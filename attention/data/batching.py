"""Texts to token ids and back into padded batches (torch's mask convention: True = <pad>, masked out)."""

from dataclasses import dataclass

import torch

from attention.core.tokenizer import PAD_ID, Tokenizer
from attention.data.types import Split


@dataclass
class Encoded:
    ids: list  # list of (T_i,) LongTensors, no padding
    labels: torch.Tensor  # (N,)
    truncated: int = 0  # how many texts lost words to max_len

    def __len__(self):
        return len(self.ids)


def encode(tokenizer: Tokenizer, split: Split, max_len: int) -> Encoded:
    """Tokenize a split; texts with no token at all keep one <unk> so every row has a key to attend to."""
    encs = [tokenizer.encode(t, max_len) for t in split.texts]
    ids = [torch.tensor(e.ids or [tokenizer.unk_id], dtype=torch.long) for e in encs]
    return Encoded(ids, torch.tensor(split.labels, dtype=torch.long), sum(e.truncated > 0 for e in encs))


def pad_batch(seqs):
    """List of (T_i,) id tensors -> ids (B, T) right-padded with 0, key_padding_mask (B, T) True = <pad>."""
    ids = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=PAD_ID)
    return ids, ids == PAD_ID


def batches(data: Encoded, batch_size, generator=None):
    """Yield (ids, key_padding_mask, labels); shuffled when a generator is given."""
    n = len(data)
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for i in range(0, n, batch_size):
        idx = order[i : i + batch_size]
        ids, kpm = pad_batch([data.ids[j] for j in idx])
        yield ids, kpm, data.labels[idx]


def batches_by_length(data: Encoded, batch_size):
    """Yield (indices, ids, key_padding_mask, labels) of texts that all have one length: no <pad> at all.

    For analysis: a model trained without the padding mask attends to <pad>, so padded batches would make
    its predictions and weights depend on which texts share a batch.
    """
    by_length = {}
    for i, x in enumerate(data.ids):
        by_length.setdefault(len(x), []).append(i)
    for group in by_length.values():
        for start in range(0, len(group), batch_size):
            idx = torch.tensor(group[start : start + batch_size])
            ids, kpm = pad_batch([data.ids[j] for j in idx])
            yield idx, ids, kpm, data.labels[idx]

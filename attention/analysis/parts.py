"""A sentence's forward pass in parts, for analyses that start midway or hold the inputs' padding fixed.

Either model (AttentionClassifier, BertClassifier) has the same parts: embed_tokens, blocks, pool and head.
"""


def embed(model, ids, masks):
    """The first layer's input (B, T, D): token embeddings plus positions (unless masks.positional is off)."""
    return model.drop(model.embed_tokens(ids, masks.positional))


def positioned(model, e, masks):
    """The first layer's input from token embeddings e (B, T, D), as embed gives it from their ids."""
    return model.drop(model.add_positions(e, masks.positional))


def layers(model, x, masks, kpm, attn, head_mask, start=0, stop=None, need_weights=False):
    """Layers start..stop (the last by default) on x (B, T, D): (output, their weights (B, H, T, T) or []).
    kpm (1, T) or None; head_mask (L, H) or per example (B, L, H)."""
    weights = []
    pad = None if kpm is None else kpm.expand(len(x), -1)
    for i in range(start, len(model.blocks) if stop is None else stop):
        x, w = model.blocks[i](x, pad, attn, masks.causal, need_weights, head_mask[..., i, :])
        weights += [w] * need_weights
    return x, weights


def readout(model, x, is_pad):
    """The classifier on the last layer's output: mean over the tokens that are not padding, then the head.
    is_pad (1, T) from the real input, so an analysis that changes the embeddings keeps the same pooling."""
    return model.head(model.pool(x, is_pad.expand(len(x), -1)))


CELLS_PER_CHUNK = 1 << 24  # attention scores held at once (one layer's, float32: 64 MB)


def examples_per_chunk(cfg, T):
    """How many examples of T tokens to run at once so that one layer's scores stay within CELLS_PER_CHUNK."""
    return max(1, CELLS_PER_CHUNK // (cfg.num_heads * T * T))

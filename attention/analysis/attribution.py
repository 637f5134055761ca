"""Which tokens made this prediction, three ways beside attention: attention rollout, gradient-weighted rollout
(Chefer et al. 2021) and integrated gradients on the token embeddings (Sundararajan et al. 2017, with Captum).

They answer different questions and often disagree: rollout follows attention weights alone; gradient-weighted
rollout keeps only the attention that raised the predicted class's logit; integrated gradients measures how the
logit moves as each token's embedding goes from the baseline to the real one, and ignores attention altogether.
Our classifiers average every real token's output (no [CLS] pooling), so a token's rollout is the mean, over the
real query tokens, of how much of it reaches them.
"""

from dataclasses import dataclass

import numpy as np
import torch

from attention.analysis import parts
from attention.analysis.sentence import Masks, encode, resolve
from attention.analysis.views import rollout

IG_STEPS = (32, 64, 128, 256, 512)  # tried in turn until completeness holds within IG_TOLERANCE
IG_TOLERANCE = 0.01  # |sum of attributions - (f(input) - f(baseline))| <= 1% of |f(input) - f(baseline)|


@dataclass(frozen=True)
class Attribution:
    """Per token (T,), for the predicted class `cls`. rollout and grad_rollout are shares summing to 1 (the real
    tokens' rows, averaged); ig is signed, in logits, and sums to logit - baseline_logit (within ig_error)."""

    cls: int
    rollout: np.ndarray
    grad_rollout: np.ndarray
    ig: np.ndarray
    logit: float
    baseline_logit: float
    ig_error: float  # |sum(ig) - (logit - baseline_logit)|
    steps: int
    baseline: str  # in words


def grad_rollout(weights, grads):
    """Gradient-weighted rollout (Chefer et al. 2021, eq. 5-6), (T, T): per layer E_h[(grad * A)+], the heads'
    average of the attention that raised the logit, added to the running relevance: R = R + A_bar @ R, from R = I.
    Returned without that starting I (each token's own path, the same 1 for every token: with our mean pooling it
    would add 1/T to every share, as it adds to [CLS]'s own entry, which Chefer et al. leave out).
    weights, grads: per layer (H, T, T)."""
    T = weights[0].shape[-1]
    relevance = np.eye(T)
    for a, g in zip(weights, grads):
        a_bar = np.clip(np.asarray(g, np.float64) * a, 0, None).mean(0)
        relevance = relevance + a_bar @ relevance
    return relevance - np.eye(T)


def token_shares(matrix, real):
    """(T, T) -> (T,): the mean over real query rows, as shares of 1 (0 everywhere if nothing is there)."""
    row = matrix[real].mean(0)
    total = row.sum()
    return row / total if total > 0 else np.zeros_like(row)


def attribute(model, tokenizer, text: str, masks: Masks | None = None) -> Attribution:
    """The three attributions of one sentence with the person's masks; ValueError for no tokens.

    No hooks on the model: it is shared by every visitor's session, and a hook would reach their passes too.
    """
    masks = resolve(masks or Masks(), model.cfg)
    enc, _, ids, kpm, attn, head_mask = encode(model, tokenizer, text, masks)
    is_pad = ids == tokenizer.pad_id  # the real input's padding: the pooling stays fixed along the IG path
    run = lambda first, need: parts.layers(model, first, masks, kpm, attn, head_mask, need_weights=need)
    with torch.enable_grad():
        first = parts.embed(model, ids, masks).detach().requires_grad_(True)  # a graph even for a frozen encoder
        x, weights = run(first, True)
        logits = parts.readout(model, x, is_pad)
        cls = int(logits[0].argmax())
        grads = torch.autograd.grad(logits[0, cls], weights)  # no parameter's .grad is touched
    plain, real = [w[0].detach().numpy() for w in weights], ~is_pad[0].numpy()
    from_embeddings = lambda e: parts.readout(model, run(parts.positioned(model, e, masks), False)[0], is_pad)
    base = baseline_ids(enc, ids, tokenizer)
    ig, error, steps = integrated_gradients(from_embeddings, model.embed(ids), model.embed(base), cls, model.cfg)
    logit = logits[0, cls].item()
    return Attribution(
        cls=cls,
        rollout=token_shares(rollout(plain), real),
        grad_rollout=token_shares(grad_rollout(plain, [g[0].numpy() for g in grads]), real),
        ig=ig,
        logit=logit,
        baseline_logit=logit - float(ig.sum()) + error,
        ig_error=abs(error),
        steps=steps,
        baseline=f"every token {tokenizer.pad_token}" + ", [CLS] and [SEP] kept" * hasattr(enc, "words"),
    )


def baseline_ids(enc, ids, tokenizer):
    """The baseline input: every token the pad token, except the pieces of their own ([CLS], [SEP]) a word-piece
    tokenizer adds, which stay (a sentence without them is not one the encoder ever saw)."""
    base = torch.full_like(ids, tokenizer.pad_id)
    if hasattr(enc, "words"):
        for i, w in enumerate(enc.words):
            if w is None:
                base[0, i] = ids[0, i]
    return base


def integrated_gradients(forward, embedded, baseline, cls, cfg):
    """Captum's IntegratedGradients on the token embeddings (1, T, D), from the baseline's, with more steps until
    completeness holds: ((T,) attributions in logits, sum - (f(input) - f(baseline)), steps)."""
    from captum.attr import IntegratedGradients  # Captum imports matplotlib: only when asked for

    batch = parts.examples_per_chunk(cfg, embedded.size(1))
    for steps in IG_STEPS:
        with torch.enable_grad():
            attr, delta = IntegratedGradients(forward).attribute(
                embedded, baseline, target=cls, n_steps=steps, internal_batch_size=batch, return_convergence_delta=True
            )
        total = attr.sum().item()
        if abs(delta.item()) <= IG_TOLERANCE * abs(total - delta.item()):
            break
    return attr[0].sum(-1).detach().numpy(), delta.item(), steps

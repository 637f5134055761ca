"""Text for the page: user text escaped, what was cut, masks and head names in words."""

import re

MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def cut_message(truncated, cut_chars, max_len):
    """What was left out of a sentence too long for the model, in words and characters; None if nothing was."""
    from attention.analysis.sentence import MAX_CHARS

    cut = [f"{cut_chars:,} characters past the first {MAX_CHARS:,}"] if cut_chars else []
    cut += [f"{truncated:,} words past the model's limit of {max_len} tokens"] if truncated else []
    return f"The sentence is too long: {' and '.join(cut)} were left out." if cut else None


def trained_masks(cfg):
    masks = [m for m, on in (("padding mask", cfg.pad_mask), ("causal mask", cfg.causal)) if on]
    return " + ".join(masks) or "no mask"


def md_escape(text: str) -> str:
    """Escape Markdown so user text shows as typed (Streamlit never renders raw HTML; this stops Markdown too)."""
    return MD_SPECIAL.sub(r"\\\1", text)


def head_pairs(labels):
    """'L1H3' -> (0, 2)."""
    return [(int(lab[1 : lab.index("H")]) - 1, int(lab[lab.index("H") + 1 :]) - 1) for lab in labels]


def focus_label(opt):
    return {"all": "All heads", "avg": "Average"}.get(opt) or f"Head {opt[1:]}"


MERGE = (
    "The model reads word pieces (a rare word is split: 'unbelievably' → 'un', '##bel', …). Merged, a word's weight "
    "as a key is the sum over its pieces (rows still sum to 1), and as a query the average of its pieces' rows. "
    "Only the display changes: the model still computes on pieces."
)
SPECIAL_TOKENS = (
    "[CLS] and [SEP] are the markers BERT-style models put around every input. Many heads send most of a row's "
    "weight to them: when a head's pattern (say, 'look at the next word') finds nothing to do, it parks its weight "
    "on a token whose value changes little, close to a no-op (Clark et al. 2019, *What does BERT look at?*)."
)


NO_POSITIONS = "This model adds no positional encoding: attention alone cannot tell word order apart."

GLOSSARY = {  # the terms the pages use, in the order a reader meets them
    "token": "A piece of the sentence the model reads: a word, or for MiniLM a word piece (##ing). [CLS] and [SEP] "
    "mark the start and end; [PAD]/<pad> fills a sentence up to a length.",
    "query, key, value": "Each token's vector is multiplied by three learned matrices. Its query asks, every "
    "token's key answers; how well they match decides how much of that token's value it takes.",
    "score": "A query times a key (a dot product), divided by √d_k: how well they match, before the softmax.",
    "softmax": "Turns a row of scores into weights that are positive and add up to 1: exp(score) / sum of exp.",
    "attention weight": "One cell of a heatmap: how much the row's token (query) takes from the column's (key).",
    "head": "One set of query, key and value matrices. Several heads look at the sentence side by side, each "
    "with its own weights; their outputs are joined and projected back.",
    "d_k": "How many numbers a head's queries and keys have: d_model divided by the number of heads.",
    "layer": "Attention (all its heads) then a small feed-forward network; the next layer reads its output.",
    "mask": "Cells a query may not attend to: their score is set so low that the weight comes out 0. Padding "
    "masks hide [PAD] tokens; a causal mask hides later tokens.",
    "logit": "The model's raw score for a class, before the softmax that turns the classes' logits into probabilities.",
    "ablation": "Switching a head off (its output set to 0) to see what the prediction or the accuracy loses.",
    "positional encoding": "Numbers added to each token's embedding that say where it stands; without them a "
    "word is the same wherever it is.",
}

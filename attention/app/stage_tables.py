"""Inside a head in words and tables: the pipeline's boxes with their formulas, the table that follows one token,
the worked row as a table. The numbers come from attention.analysis.stages; this is how the page says them.
"""

from dataclasses import dataclass

import numpy as np

from attention.analysis.stages import HeadSteps, WorkedRow


@dataclass
class Box:
    name: str  # "Input X"
    formula: str  # "embedding + position"
    shape: str  # "3 × 64"
    values: np.ndarray | None = None  # the followed token's vector at this stage
    part: str = ""  # which part of the stage `values` is, e.g. "head 2's query"


def pipeline(steps: HeadSteps, token: int = 0) -> list[Box]:
    """The layer's shape-by-shape trace with this model's numbers; values follow one token through it."""
    T, D = steps.x.shape
    H, d_k = steps.num_heads, steps.d_k
    L = steps.layer + 1
    source = "embedding + position" if steps.position is not None else "embedding"
    if steps.layer:
        source = f"output of layer {steps.layer}"
    ff = " + feed-forward" if steps.has_ff else ""
    h = steps.head + 1
    return [
        Box("Input X", source, f"{T} × {D}", steps.x[token], "its row of X"),
        Box("Q, K, V", f"X·W + b, in {H} heads", f"{T} × {H} × {d_k} each", steps.q[token], f"head {h}'s query"),
        Box(
            "Attention per head",
            f"softmax(Q·Kᵀ/√{d_k})·V",
            f"{H} × ({T} × {d_k})",
            steps.head_out[token],
            f"head {h}'s output",
        ),
        Box("Concatenate", "heads side by side", f"{T} × {H * d_k}", steps.concat[token], "every head's output"),
        Box("Output projection", "concat·W_o + b_o", f"{T} × {D}", steps.output[token], "the attention output"),
        Box(f"Layer {L} output", f"LayerNorm(X + attn){ff}", f"{T} × {D}", steps.block_out[token], "its new row"),
    ]


def follow_table(boxes: list[Box], first: int = 6) -> list[dict]:
    """One token through the layer as table rows of strings: stage, shape, and the first numbers of its vector."""
    rows = []
    for b in boxes:
        v = np.asarray(b.values, dtype=np.float64)
        more = f" … ({len(v)} numbers)" if len(v) > first else ""
        numbers = "[" + ", ".join(f"{x:.3f}" for x in v[:first]) + more + "]"
        rows.append(
            {"stage": b.name, "computed as": b.formula, "shape": b.shape, "this token": b.part, "numbers": numbers}
        )
    return rows


def worked_table(row: WorkedRow, tokens) -> list[dict]:
    """The worked softmax as table rows of strings (4 decimals, like the heatmaps' hover), then a sum row."""
    out = []
    for j, tok in enumerate(tokens):
        if row.masked[j]:
            out.append({"key": f"{j}:{tok}", "score s": "masked", "s − max": "–", "exp(s − max)": "0", "weight": "0"})
            continue
        shifted = row.scores[j] - row.top
        out.append(
            {
                "key": f"{j}:{tok}",
                "score s": f"{row.scores[j]:.4f}",
                "s − max": f"{shifted:.4f}",
                "exp(s − max)": f"{row.exps[j]:.4f}",
                "weight": f"{row.weights[j]:.4f}",
            }
        )
    out.append({"key": "sum", "score s": "", "s − max": "", "exp(s − max)": f"{row.total:.4f}"})
    out[-1]["weight"] = f"{row.weights.sum():.4f}"
    return out

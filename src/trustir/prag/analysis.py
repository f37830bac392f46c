"""What the adapters are: cosine between documents' LoRA deltas, and their size (P9).

An adapter's delta on module m is ``dW_m = s * B_m A_m`` (s = alpha / r). The cosine of two
adapters is ``<dW, dW'> / (|dW| |dW'|)`` over all modules, computed without forming dW:
``<B A, B' A'>_F = trace((B^T B') (A' A^T))`` (r x r products).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np
import polars as pl
import torch


def _pairs(state: Mapping[str, torch.Tensor]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    out = {}
    for name, a in state.items():
        if name.endswith("lora_A.weight"):
            stem = name[: -len("lora_A.weight")]
            out[stem] = (a.double(), state[stem + "lora_B.weight"].double())  # [r,in], [out,r]
    return out


def delta_inner(x: Mapping[str, torch.Tensor], y: Mapping[str, torch.Tensor]) -> float:
    """Frobenius inner product of two adapters' deltas, summed over modules (unscaled)."""
    px, py = _pairs(x), _pairs(y)
    total = 0.0
    for stem, (a1, b1) in px.items():
        a2, b2 = py[stem]
        total += float(torch.trace((b1.T @ b2) @ (a2 @ a1.T)))
    return total


def delta_cosine(x: Mapping[str, torch.Tensor], y: Mapping[str, torch.Tensor]) -> float:
    nx, ny = delta_inner(x, x), delta_inner(y, y)
    if nx <= 0 or ny <= 0:
        return float("nan")
    return delta_inner(x, y) / math.sqrt(nx * ny)


def cosine_pairs(states: Mapping[str, Mapping], entity: Mapping[str, str | None]) -> pl.DataFrame:
    """doc_a, doc_b, same_entity (null without entities), cosine for every pair of docs."""
    norms = {d: delta_inner(s, s) for d, s in states.items()}
    rows = []
    for a, b in itertools.combinations(sorted(states), 2):
        ea, eb = entity.get(a), entity.get(b)
        same = None if ea is None or eb is None else ea == eb
        denom = math.sqrt(norms[a] * norms[b])
        cos = delta_inner(states[a], states[b]) / denom if denom > 0 else float("nan")
        rows.append((a, b, same, cos))
    schema = {"doc_a": pl.String, "doc_b": pl.String, "same_entity": pl.Boolean,
              "cosine": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def cosine_summary(pairs: pl.DataFrame) -> dict[str, float]:
    """Mean cosine (and pair count) of same-entity and unrelated pairs."""
    out: dict[str, float] = {}
    for label, flag in (("same_entity", True), ("unrelated", False)):
        v = pairs.filter(pl.col("same_entity") == flag)["cosine"].drop_nans().to_numpy()
        out[f"{label}_cosine"] = float(np.mean(v)) if len(v) else float("nan")
        out[f"{label}_pairs"] = float(len(v))
    return out

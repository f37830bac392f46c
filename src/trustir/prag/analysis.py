"""What the adapters are: cosine between documents' LoRA deltas, and their size (P9).

An adapter's delta on module m is ``dW_m = s * B_m A_m`` (s = alpha / r). The cosine of two
adapters is ``<dW, dW'> / (|dW| |dW'|)`` over all modules, computed without forming dW:
``<B A, B' A'>_F = trace((B^T B') (A' A^T))`` (r x r products).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

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


def delta_gram(states: Sequence[Mapping[str, torch.Tensor]]) -> torch.Tensor:
    """All pairwise delta inner products ``[N, N]`` (unscaled), as :func:`delta_inner` per pair.

    Per module, with A_n [r, in] and B_n [out, r] stacked over the N adapters:
    ``<B_n A_n, B_m A_m> = sum_rs (B_n^T B_m)_rs (A_n A_m^T)_rs``, i.e. the elementwise product
    of two [N r, N r] Gram matrices summed over each r x r block.
    """
    stems = list(_pairs(states[0]))
    n = len(states)
    total = torch.zeros((n, n), dtype=torch.float64)
    for stem in stems:
        a = torch.stack([s[stem + "lora_A.weight"] for s in states]).double()  # [N, r, in]
        b = torch.stack([s[stem + "lora_B.weight"] for s in states]).double()  # [N, out, r]
        r = a.shape[1]
        ga = a.reshape(n * r, -1) @ a.reshape(n * r, -1).T  # [N r, N r]: (A_n A_m^T)_rs
        bt = b.transpose(1, 2).reshape(n * r, -1)  # [N r, out]
        gb = bt @ bt.T  # [N r, N r]: (B_n^T B_m)_rs
        total += (ga * gb).reshape(n, r, n, r).sum((1, 3))  # [N, N]
    return total


def cosine_pairs(states: Mapping[str, Mapping], entity: Mapping[str, str | None]) -> pl.DataFrame:
    """doc_a, doc_b, same_entity (null without entities), cosine for every pair of docs."""
    docs = sorted(states)
    index = {d: i for i, d in enumerate(docs)}
    gram = delta_gram([states[d] for d in docs]) if docs else torch.zeros((0, 0))  # [N, N]
    norms = gram.diagonal()
    rows = []
    for a, b in itertools.combinations(docs, 2):
        ea, eb = entity.get(a), entity.get(b)
        same = None if ea is None or eb is None else ea == eb
        i, j = index[a], index[b]
        denom = math.sqrt(float(norms[i] * norms[j]))
        rows.append((a, b, same, float(gram[i, j]) / denom if denom > 0 else float("nan")))
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

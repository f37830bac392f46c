"""TIES merging: trim task vectors, elect a sign per parameter, disjoint mean (PAPERS.md P5).

Trim keeps, per model and per tensor, the entries of tau_i = theta_i - base whose magnitude is
at least the k-th largest one (k = ceil(density * numel)); the threshold is the method's
statistic, computed over the whole tensor so that row chunks merge as the whole does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from trustir.merging.base import Stats, TensorSource, register_merge, sign_consensus, task_vectors


def magnitude_threshold(magnitudes: Tensor, density: float) -> float:
    """The k-th largest of ``magnitudes`` (|tau|, any shape; k = ceil(density * numel)); -inf
    keeps everything. The tensor is reordered in place (a partial sort without extra memory)."""
    if not 0 < density <= 1:
        raise ValueError(f"TIES density must be in (0, 1], got {density}")
    n = magnitudes.numel()
    k = math.ceil(density * n)
    if k >= n or n == 0:
        return float("-inf")
    flat = magnitudes.reshape(-1).numpy()  # a view: [numel]
    flat.partition(n - k)  # the (n - k)-th smallest (0-based) = the k-th largest, in place
    return float(flat[n - k])


def ties_stats(source: TensorSource, weights: Sequence[float], **options: Any) -> Stats:
    """Per-model magnitude thresholds of the trim step (each model's tensor read in turn)."""
    base = source.full_base()
    if base is None:
        raise ValueError("TIES needs the base model")
    thresholds = []
    for i in range(source.n):  # one model's tensor in memory at a time
        tau = source.full(i)  # [*shape], a fresh copy we may reorder
        tau.sub_(base).abs_()
        thresholds.append(magnitude_threshold(tau, options["density"]))
        del tau
    return {"thresholds": thresholds}


@register_merge("ties", stats=ties_stats, needs_base=True)
def ties(
    chunks: Sequence[Tensor],  # N x [*chunk]
    base: Tensor | None,  # [*chunk]
    weights: Sequence[float],
    stats: Stats,
    offset: int,
    key: str,
    *,
    density: float = 0.5,
    scale: float = 1.0,
) -> Tensor:  # [*chunk]
    """base + scale * disjoint_mean(elect(trim(tau_i, density)))."""
    taus = task_vectors(chunks, base)
    trimmed = [
        torch.where(t.abs() >= thr, t, 0.0)
        for t, thr in zip(taus, stats["thresholds"], strict=True)
    ]
    assert base is not None  # noqa: S101  type narrowing: needs_base methods always get a base
    return base + scale * sign_consensus(trimmed, weights)

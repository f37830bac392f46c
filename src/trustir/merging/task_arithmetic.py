"""Task arithmetic: base + lambda * sum of weighted task vectors (PAPERS.md P5)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from trustir.merging.base import Stats, register_merge, task_vectors, weighted_sum


@register_merge("task_arithmetic", needs_base=True)
def task_arithmetic(
    chunks: Sequence[Tensor],  # N x [*chunk]
    base: Tensor | None,  # [*chunk]
    weights: Sequence[float],
    stats: Stats,
    offset: int,
    key: str,
    *,
    scale: float = 1.0,
) -> Tensor:  # [*chunk]
    """base + scale * sum_i w_i (theta_i - base)."""
    assert base is not None  # noqa: S101  type narrowing: needs_base methods always get a base
    return base + scale * weighted_sum(task_vectors(chunks, base), weights)

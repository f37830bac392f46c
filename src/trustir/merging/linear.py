"""Linear merge: the weighted average of the models (a model soup; PAPERS.md P5)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from trustir.merging.base import Stats, register_merge, weighted_sum


@register_merge("linear")
def linear(
    chunks: Sequence[Tensor],  # N x [*chunk]
    base: Tensor | None,
    weights: Sequence[float],
    stats: Stats,
    offset: int,
    key: str,
    *,
    normalize: bool = True,
) -> Tensor:  # [*chunk]
    """sum_i w_i theta_i / sum_i w_i (``normalize``), or sum_i w_i theta_i."""
    total = sum(weights)
    if normalize and total == 0:
        raise ValueError(f"tensor {key or '?'}: linear merge weights sum to 0")
    out = weighted_sum(chunks, weights)
    return out / total if normalize else out

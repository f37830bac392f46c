"""SLERP merge: spherical interpolation of two models (folded over more; PAPERS.md P5)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from trustir.merging.base import Stats, register_merge
from trustir.merging.spherical import combine_span, gram_stats, slerp_coefficients


@register_merge("slerp", stats=gram_stats)
def slerp(
    chunks: Sequence[Tensor],  # N x [*chunk]
    base: Tensor | None,  # [*chunk] (used when relative)
    weights: Sequence[float],
    stats: Stats,
    offset: int,
    key: str,
    *,
    relative: bool = False,
) -> Tensor:  # [*chunk]
    """slerp(theta_0, theta_1, t) with t = w_1 / (w_0 + w_1); with N > 2 models SLERP is folded:
    m <- slerp(m, theta_i, w_i / (w_0 + ... + w_i)). ``relative``: on task vectors."""
    coef = slerp_coefficients(stats["gram"], weights)
    return combine_span(chunks, base, coef, relative)

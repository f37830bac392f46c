"""Multi-model SLERP: the weighted spherical (Karcher) mean of N models (PAPERS.md P5)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from trustir.merging.base import Stats, register_merge
from trustir.merging.spherical import combine_span, gram_stats, karcher_coefficients


@register_merge("multislerp", stats=gram_stats)
def multislerp(
    chunks: Sequence[Tensor],  # N x [*chunk]
    base: Tensor | None,  # [*chunk] (used when relative)
    weights: Sequence[float],
    stats: Stats,
    offset: int,
    key: str,
    *,
    relative: bool = False,
) -> Tensor:  # [*chunk]
    """(sum_i p_i |v_i|) * KarcherMean_p(v_i / |v_i|), p = normalised weights; equals slerp for
    two models. ``relative``: on task vectors (the result is base + that mean)."""
    coef = karcher_coefficients(stats["gram"], weights)
    return combine_span(chunks, base, coef, relative)

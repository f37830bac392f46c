"""Authority levels on a 5- or 10-point scale by rank quantiles (P1: PageRank or popularity ->
levels 1 (lowest) .. L).

An item's level is ``1 + floor(r * L / n)``, where ``r`` is the number of items with a strictly
smaller value: equal values share a level (the lowest of their tie block), so a real list with
tied scores (Moz Domain Authority) never splits a tie by file order. On distinct values this is
the mini-world's own ``quantile_levels``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SCALES = (5, 10)


def quantile_levels(values: Sequence[float] | np.ndarray, n_levels: int = 5) -> np.ndarray:
    """Levels ``1..n_levels`` (int64) of ``values`` by rank quantiles; ties share a level."""
    if n_levels < 2:
        raise ValueError(f"n_levels must be at least 2, got {n_levels}")
    v = np.asarray(values, dtype=np.float64)  # [n]
    if v.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {v.shape}")
    if np.isnan(v).any():
        raise ValueError("values contain NaN: every item needs an authority value")
    n = v.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    below = np.searchsorted(np.sort(v), v, side="left")  # [n] items strictly smaller
    return (1 + (below * n_levels) // n).astype(np.int64)


def rescale(value: float, from_levels: int, to_levels: int) -> float:
    """Map ``value`` on 1..from_levels linearly onto 1..to_levels."""
    return 1.0 + (value - 1.0) * (to_levels - 1) / (from_levels - 1)

"""The ranker contract and registry (P8; DESIGN.md "a ranker has fit(X, y, groups) / score(X)").

``X`` [n, d] float features, ``y`` [n] integer grades, ``groups`` the sizes of consecutive
query groups (LightGBM's convention; they sum to n), ``weights`` [n] per-row loss weights
(constant within a group: FAMOL's per-query weights). ``budget`` scales the training length
(boosting rounds, epochs) of one call; ``warm_start`` continues the model already trained (a
schedule's second phase) instead of starting afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from trustir.registry import Registry


class Ranker(Protocol):
    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        budget: float = 1.0,
        warm_start: bool = False,
    ) -> Ranker: ...

    def score(self, X: np.ndarray) -> np.ndarray: ...


#: name -> factory taking the ``ltr`` params section (``trustir.ranking.params.LtrParams``).
RANKERS: Registry[Callable[..., Ranker]] = Registry("ranker", autoload="trustir.ranking.rankers")


def check_groups(X: np.ndarray, y: np.ndarray, groups: np.ndarray, weights=None) -> None:
    """Shapes agree: one label per row, group sizes positive and summing to the rows."""
    n = X.shape[0]
    if y.shape != (n,) or int(np.sum(groups)) != n or np.any(np.asarray(groups) <= 0):
        raise ValueError(
            f"ranker input: X has {n} rows, y {y.shape}, groups sum to {int(np.sum(groups))}"
        )
    if weights is not None and np.shape(weights) != (n,):
        raise ValueError(f"ranker input: weights {np.shape(weights)} for {n} rows")

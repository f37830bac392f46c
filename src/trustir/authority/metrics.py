"""AuthorityBench measures (P1): Spearman and Kendall correlation with the ground truth, pair
accuracy on easy and hard pairs, cost per judged item, and bootstrap confidence intervals.

Undefined values (fewer than 3 scored items, constant scores, no usable pair) are None, so the
metrics file stays valid JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

PAIR_VALUES = {"pair_id": pl.String, "kind": pl.String, "value": pl.Float64}


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def correlations(scores: Sequence[float | None], truth: Sequence[float]) -> dict[str, float | None]:
    """Spearman's rho and Kendall's tau-b between the judged scores and the ground truth, over
    the items with a score; None where undefined."""
    pairs = [(s, t) for s, t in zip(scores, truth, strict=True) if s is not None]
    if len(pairs) < 3:
        return {"spearman": None, "kendall": None}
    s, t = np.array(pairs, dtype=np.float64).T  # [n], [n]
    if np.ptp(s) == 0 or np.ptp(t) == 0:
        return {"spearman": None, "kendall": None}
    return {
        "spearman": _finite(stats.spearmanr(s, t).statistic),
        "kendall": _finite(stats.kendalltau(s, t).statistic),
    }


def pair_value(winner_first: bool, pref_first: float | None) -> float | None:
    """1 if the judge prefers the truly more authoritative item, 0.5 on a tie, 0 otherwise;
    ``pref_first`` is the judge's P(first item over second) (None = no usable answer)."""
    if pref_first is None:
        return None
    p = pref_first if winner_first else 1.0 - pref_first
    return 1.0 if p > 0.5 else 0.0 if p < 0.5 else 0.5


def pair_values(
    pairs: pl.DataFrame,
    item_scores: Mapping[str, float | None] | None = None,
    prefs: Mapping[str, float | None] | None = None,
) -> pl.DataFrame:
    """Each pair's value (PAIR_VALUES): from the judge's own preferences (pair judges) or from
    its item scores (point and list judges: the higher score is the preferred item)."""
    rows = []
    for pid, a, b, kind, winner in pairs.select("pair_id", "a", "b", "kind", "winner").iter_rows():
        if prefs is not None:
            pref = prefs.get(pid)
        else:
            sa, sb = (item_scores or {}).get(a), (item_scores or {}).get(b)
            pref = (
                None if sa is None or sb is None else (1.0 if sa > sb else 0.0 if sa < sb else 0.5)
            )
        rows.append((pid, kind, pair_value(winner == a, pref)))
    return pl.DataFrame(rows, schema=PAIR_VALUES, orient="row")


def mean_or_none(values: Sequence[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return float(np.mean(got)) if got else None


def bootstrap_ci(
    n: int,
    statistic: Callable[[np.ndarray], float | None],
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n`` units resampled with
    replacement (resamples where it is undefined are skipped)."""
    if n < 2:
        return None, None
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        v = statistic(rng.integers(0, n, size=n))
        if v is not None and math.isfinite(v):
            vals.append(v)
    if len(vals) < n_boot // 2:
        return None, None
    lo, hi = np.quantile(vals, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def spearman_ci(scores: Sequence[float | None], truth: Sequence[float], seed: int = 0) -> tuple:
    """Bootstrap 95% interval of Spearman's rho over the scored items."""
    got = [(s, t) for s, t in zip(scores, truth, strict=True) if s is not None]
    if len(got) < 3:
        return None, None
    s, t = np.array(got, dtype=np.float64).T

    def rho(idx: np.ndarray) -> float | None:
        return correlations(s[idx].tolist(), t[idx].tolist())["spearman"]

    return bootstrap_ci(len(got), rho, seed=seed)


def mean_ci(values: Sequence[float | None], seed: int = 0) -> tuple:
    """Bootstrap 95% interval of a mean (pair accuracy, answer accuracy)."""
    got = np.array([v for v in values if v is not None], dtype=np.float64)
    if got.size < 2:
        return None, None
    return bootstrap_ci(got.size, lambda idx: float(got[idx].mean()), seed=seed)

"""Calibration metrics, their one home (issue 14, P4): ECE, adaptive ECE, Brier, AUROC.

``confidence`` is a score in [0, 1] (higher = more confident); ``correct`` is 0/1. ECE (Guo et
al. 2017): equal-width bins on [0, 1], the first bin closed at 0 (``[0, 1/B]``), the others
``(k/B, (k+1)/B]``; the weighted mean over bins of |accuracy − mean confidence|.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata


def _arrays(confidence: Sequence[float], correct: Sequence[float]) -> tuple[np.ndarray, ...]:
    c = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if c.shape != y.shape or c.ndim != 1:
        raise ValueError(f"confidence {c.shape} and correct {y.shape} must be equal 1-d shapes")
    if len(c) == 0:
        raise ValueError("calibration metrics need at least one question")
    if np.isnan(c).any():
        raise ValueError("confidence holds NaN")
    if ((c < 0) | (c > 1)).any():
        raise ValueError(f"confidence must lie in [0, 1]; got [{c.min():g}, {c.max():g}]")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("correct must be 0/1")
    return c, y


def bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """The equal-width bin of each confidence: 0 for [0, 1/B], k for (k/B, (k+1)/B]."""
    return np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)


def _gap(c: np.ndarray, y: np.ndarray, bins: np.ndarray) -> float:
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() * abs(y[m].mean() - c[m].mean())
    return float(total / len(c))


def ece(confidence: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> float:
    """Expected calibration error over ``n_bins`` equal-width bins (lower is better)."""
    c, y = _arrays(confidence, correct)
    return _gap(c, y, bin_index(c, n_bins))


def adaptive_ece(confidence: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> float:
    """ECE over equal-mass bins: questions sorted by confidence, cut into ``n_bins`` runs of
    (nearly) equal size (``np.array_split`` of the stable sort; fewer bins if fewer questions)."""
    c, y = _arrays(confidence, correct)
    order = np.argsort(c, kind="stable")
    bins = np.empty(len(c), dtype=np.int64)
    for b, part in enumerate(np.array_split(order, min(n_bins, len(c)))):
        bins[part] = b
    return _gap(c, y, bins)


def brier(confidence: Sequence[float], correct: Sequence[float]) -> float:
    """Mean squared difference between confidence and correctness (lower is better)."""
    c, y = _arrays(confidence, correct)
    return float(np.mean((c - y) ** 2))


def auroc(confidence: Sequence[float], correct: Sequence[float]) -> float:
    """P(a correct answer's confidence > a wrong one's), ties counting one half; NaN when all
    answers are right or all wrong.

    By ranks (Mann-Whitney U with mid-ranks); scikit-learn is not a dependency of trustir (tests
    cross-check against it and against ``scipy.stats.mannwhitneyu``).
    """
    c, y = _arrays(confidence, correct)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(c)  # average ranks of ties
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def accuracy(correct: Sequence[float]) -> float:
    """The fraction of correct answers."""
    return float(np.mean(np.asarray(correct, dtype=np.float64)))


def mean_confidence(confidence: Sequence[float]) -> float:
    """The mean confidence."""
    return float(np.mean(np.asarray(confidence, dtype=np.float64)))


def reliability(
    confidence: Sequence[float], correct: Sequence[float], n_bins: int = 10
) -> list[dict[str, float]]:
    """The reliability diagram's bins: lower/upper edge, count, accuracy, mean confidence (bins
    without questions are left out)."""
    c, y = _arrays(confidence, correct)
    bins = bin_index(c, n_bins)
    out = []
    for b in range(n_bins):
        m = bins == b
        if m.any():
            out.append(
                {
                    "lo": b / n_bins,
                    "hi": (b + 1) / n_bins,
                    "count": int(m.sum()),
                    "accuracy": float(y[m].mean()),
                    "confidence": float(c[m].mean()),
                }
            )
    return out


def summary(
    confidence: Sequence[float], correct: Sequence[float], n_bins: int = 10
) -> dict[str, float]:
    """Every metric of one set of questions, by name."""
    return {
        "ece": ece(confidence, correct, n_bins),
        "adaptive_ece": adaptive_ece(confidence, correct, n_bins),
        "brier": brier(confidence, correct),
        "auroc": auroc(confidence, correct),
        "accuracy": accuracy(correct),
        "confidence": mean_confidence(confidence),
    }

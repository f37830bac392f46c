"""Numbers written so that float noise does not change the bytes DVC hashes (issue 20, part 2).

The same stage run with ``OMP_NUM_THREADS=1`` and ``=2`` (or on another machine) computes FAISS
and BLAS reductions in a different order, so scores differ in their last bits. Every output that
feeds a hash is therefore written at a stated precision:

- run scores (BM25 and dense similarities, re-ranker scores): rounded to
  :data:`SCORE_DECIMALS` decimal places *before* ranking, ties broken by ``doc_id``, so the rank
  order is a function of the rounded scores alone;
- metrics (``metrics/*.json``, per-query values, click-model log-likelihoods): rounded to
  :data:`METRIC_SIGNIFICANT` significant digits.

Rounding cannot remove noise that straddles a rounding boundary (0.1234565 vs 0.12345649999),
but such a flip needs noise at the rounded digit, which float32 sums of a few hundred terms
(≈ 1e-7 relative) do not reach at these precisions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl

#: decimal places of every run score written (float32 similarity noise is ≈ 1e-7).
SCORE_DECIMALS = 5
#: significant digits of every metric written (``metrics/*.json``, per-query values).
METRIC_SIGNIFICANT = 6


def round_sig(value: float, digits: int = METRIC_SIGNIFICANT) -> float:
    """``value`` rounded to ``digits`` significant digits (NaN and ±inf unchanged)."""
    if not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits}g}")


def stable_numbers(obj: Any, digits: int = METRIC_SIGNIFICANT) -> Any:
    """A copy of a JSON-able structure with every float rounded by :func:`round_sig`
    (ints, bools, strings and None unchanged)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, int | str):
        return obj
    if isinstance(obj, float):
        return round_sig(obj, digits)
    if isinstance(obj, dict):
        return {k: stable_numbers(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [stable_numbers(v, digits) for v in obj]
    if hasattr(obj, "item"):  # numpy scalars
        return stable_numbers(obj.item(), digits)
    return obj


def round_scores(df: pl.DataFrame, column: str = "score") -> pl.DataFrame:
    """``df`` with ``column`` rounded to :data:`SCORE_DECIMALS` places (as Float64)."""
    return df.with_columns(pl.col(column).cast(pl.Float64).round(SCORE_DECIMALS))


def round_values(df: pl.DataFrame, column: str = "value") -> pl.DataFrame:
    """``df`` with ``column`` rounded to :data:`METRIC_SIGNIFICANT` significant digits."""
    return df.with_columns(pl.col(column).cast(pl.Float64).round_sig_figs(METRIC_SIGNIFICANT))


#: columns of the labels table that describe the call, not the label: wall time and timestamp.
#: The label store keeps them; result tables written by stages carry them as nulls.
RUN_COLUMNS = ("latency_ms", "created_at")


def stable_labels(labels: pl.DataFrame) -> pl.DataFrame:
    """A labels table as a stage writes it: ``score`` rounded to :data:`SCORE_DECIMALS` places,
    :data:`RUN_COLUMNS` nulled (kept, typed), so a cold run and a cached one write equal bytes."""
    if labels.is_empty() and not labels.columns:
        return labels
    exprs = [pl.lit(None, dtype=labels.schema[c]).alias(c) for c in RUN_COLUMNS if c in labels]
    if "score" in labels.columns:
        exprs.append(pl.col("score").round(SCORE_DECIMALS))
    return labels.with_columns(exprs) if exprs else labels


def write_metrics(obj: Any, target: str | Path) -> Path:
    """Write a metrics JSON (floats at :data:`METRIC_SIGNIFICANT` significant digits)."""
    from trustir.io.atomic import write_json

    return write_json(stable_numbers(obj), target)

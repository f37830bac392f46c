"""Frequency buckets of P8: head (high), torso (medium) and tail (low) queries.

Queries are ranked by frequency (ties by query id) over both splits together; the top
``high`` share is "high", the next ``medium`` share "medium", the rest "low". Shares of queries
(not of traffic): with Zipf frequencies a traffic split would leave a handful of head queries.
"""

from __future__ import annotations

import math

import polars as pl

from trustir.ranking.params import BucketParams


def frequency_buckets(freqs: pl.DataFrame, params: BucketParams) -> pl.DataFrame:
    """``freqs`` (query_id, freq) -> (query_id, freq, bucket), by frequency, highest first."""
    if freqs.height == 0:
        raise ValueError("frequency_buckets: no queries")
    if freqs["freq"].null_count():
        raise ValueError("frequency_buckets: some queries have no frequency")
    ranked = freqs.select("query_id", pl.col("freq").cast(pl.Int64)).sort(
        ["freq", "query_id"], descending=[True, False]
    )
    n = ranked.height
    n_high = max(1, round(n * params.high))
    n_medium = max(1, round(n * params.medium)) if n > 2 else 0
    n_medium = min(n_medium, max(0, n - n_high - 1))
    labels = ["high"] * n_high + ["medium"] * n_medium + ["low"] * (n - n_high - n_medium)
    return ranked.with_columns(pl.Series("bucket", labels, dtype=pl.String))


def bucket_edges(buckets: pl.DataFrame) -> tuple[float, float]:
    """(lowest frequency of "medium", lowest of "high"): the edges FAMOL's weight ramps between."""
    high = buckets.filter(pl.col("bucket") == "high")["freq"].min()
    medium = buckets.filter(pl.col("bucket") == "medium")["freq"].min()
    lo = float(medium if medium is not None else high)
    return lo, float(high)


def famol_weight(freq: float, edges: tuple[float, float], w_min: float, w_max: float) -> float:
    """FAMOL's click-loss weight w(freq): ``w_min`` below the medium edge, ``w_max`` from the high
    edge up, log-linear in between (P8: w rises with query frequency)."""
    lo, hi = edges
    if hi <= lo:
        t = 1.0 if freq >= hi else 0.0
    else:
        # freq 0 (never seen) is clamped so the log exists: t < 0, i.e. w_min, as for any freq < lo
        t = (math.log(max(freq, 1e-9)) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return w_min + (w_max - w_min) * min(1.0, max(0.0, t))

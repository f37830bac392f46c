"""Build ``run`` tables (query_id, doc_id, score, rank, run) from top-k matrices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from trustir.io.stable import round_scores
from trustir.schema import RUN


def run_from_topk(
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    indices: np.ndarray,  # [n_queries, k] positions into doc_ids; -1 = no result
    scores: np.ndarray,  # [n_queries, k]
    name: str,
) -> pl.DataFrame:
    """A run table ranked by score (ties broken by doc_id, so ranks are deterministic)."""
    n_q, k = indices.shape
    valid = indices >= 0
    qid_col = np.repeat(np.asarray(query_ids, dtype=object), k)[valid.ravel()]
    docs = np.asarray(doc_ids, dtype=object)[indices[valid]]
    df = pl.DataFrame(
        {
            "query_id": qid_col.tolist(),
            "doc_id": docs.tolist(),
            "score": scores[valid].astype(np.float64),
        },
        schema={"query_id": pl.String, "doc_id": pl.String, "score": pl.Float64},
    )
    return rank_run(df, name)


def rank_run(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """(Re)assign ranks 1..k per query by descending score, ties by doc_id; set the run name.

    Scores are first rounded to ``SCORE_DECIMALS`` places (``trustir.io.stable``), so float
    noise between thread counts and machines changes neither the bytes nor the order."""
    df = round_scores(df).sort(["query_id", "score", "doc_id"], descending=[False, True, False])
    df = df.with_columns(
        pl.int_range(1, pl.len() + 1).over("query_id").cast(pl.Int64).alias("rank"),
        pl.lit(name, dtype=pl.String).alias("run"),
    )
    return df.select(list(RUN))

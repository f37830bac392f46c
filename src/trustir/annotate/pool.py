"""Candidate pooling: which (query, document) pairs an LLM judges (top-k of each run)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def select_queries(queries: pl.DataFrame, split: str, max_queries: int | None) -> pl.DataFrame:
    """Queries of ``split`` ("train", "test" or "all"), sorted by id, the first ``max_queries``.

    Raising ``max_queries`` only appends queries, so earlier labels stay valid (cache hits).
    """
    q = queries if split == "all" else queries.filter(pl.col("split") == split)
    q = q.sort("query_id")
    return q.head(max_queries) if max_queries is not None else q


def pool_candidates(
    runs: Sequence[pl.DataFrame], query_ids: Sequence[str], depth: int
) -> pl.DataFrame:
    """The union of each run's top ``depth`` documents per query: (query_id, doc_id), sorted."""
    wanted = pl.DataFrame({"query_id": list(query_ids)}, schema={"query_id": pl.String})
    parts = [
        r.filter(pl.col("rank") <= depth)
        .select("query_id", "doc_id")
        .join(wanted, on="query_id", how="semi")
        for r in runs
    ]
    return pl.concat(parts).unique().sort(["query_id", "doc_id"])

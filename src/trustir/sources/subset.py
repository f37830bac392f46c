"""Deterministic subsets of real data for quick runs: fewer queries, fewer documents.

Queries and documents are ranked by ``sha256(f"{seed}:{id}")`` (never Python's salted ``hash``),
so a subset is the same on every machine and grows by inclusion: raising ``max_queries`` keeps
the queries a smaller limit kept.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

import polars as pl

from trustir.schema import SPLITS

log = logging.getLogger(__name__)


def stable_order(ids: Iterable[str], seed: int) -> list[str]:
    """``ids`` sorted by ``sha256(f"{seed}:{id}")`` (ties, impossible in practice, by id)."""

    def key(i: str) -> tuple[bytes, str]:
        return hashlib.sha256(f"{seed}:{i}".encode()).digest(), i

    return sorted(ids, key=key)


def _pick(ids: Iterable[str], n: int | None, seed: int) -> set[str]:
    ids = list(ids)
    if n is None or n >= len(ids):
        return set(ids)
    return set(stable_order(ids, seed)[:n])


def _keep_queries(queries: pl.DataFrame, max_queries: int | None, seed: int) -> set[str]:
    """At most ``max_queries`` queries of each split (test and train alike)."""
    kept: set[str] = set()
    for split in SPLITS:
        ids = queries.filter(pl.col("split") == split)["query_id"].to_list()
        kept |= _pick(ids, max_queries, seed)
    return kept


def _keep_docs(
    corpus: pl.DataFrame, qrels: pl.DataFrame, max_docs: int | None, seed: int
) -> set[str] | None:
    """Every judged document (of the kept qrels), filled up to ``max_docs``; None = all."""
    if max_docs is None:
        return None
    all_docs = corpus["doc_id"].to_list()
    judged = set(qrels["doc_id"].to_list()) & set(all_docs)
    if len(judged) >= max_docs:
        if len(judged) > max_docs:
            log.warning(
                "max_docs=%d is below the %d documents judged for the kept queries; "
                "keeping all judged documents",
                max_docs,
                len(judged),
            )
        return judged
    rest = [d for d in all_docs if d not in judged]
    return judged | set(stable_order(rest, seed)[: max_docs - len(judged)])


def subset(
    tables: dict[str, pl.DataFrame],
    max_queries: int | None = None,
    max_docs: int | None = None,
    seed: int = 0,
) -> dict[str, pl.DataFrame]:
    """Keep at most ``max_queries`` test and ``max_queries`` train queries, ``max_docs`` documents.

    Every document judged for a kept query is kept, even beyond ``max_docs`` (a warning says
    so); the rest is filled in the seeded sha256 order. Qrels of dropped queries are dropped;
    rows keep their original order; other tables in ``tables`` pass through. None = no limit.
    """
    if max_queries is None and max_docs is None:
        return dict(tables)
    out = dict(tables)
    queries, qrels, corpus = tables["queries"], tables["qrels"], tables["corpus"]
    if max_queries is not None:
        kept_q = _keep_queries(queries, max_queries, seed)
        queries = queries.filter(pl.col("query_id").is_in(sorted(kept_q)))
        qrels = qrels.filter(pl.col("query_id").is_in(sorted(kept_q)))
    kept_d = _keep_docs(corpus, qrels, max_docs, seed)
    if kept_d is not None:
        corpus = corpus.filter(pl.col("doc_id").is_in(sorted(kept_d)))
    out.update(corpus=corpus, queries=queries, qrels=qrels)
    return out

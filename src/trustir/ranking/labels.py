"""LLM labels for P8's rankers: the annotate stage's, extended over the frequency buckets.

The annotate stage judges the first train queries by id — on the mini-world the most frequent
ones — so alone it would leave the tail without LLM labels, the very queries P8 says they help.
Here each bucket gets at least ``labels.queries_per_bucket`` labelled train queries: the
bucket's already-labelled queries count, more are drawn in a seeded sha256 order, and the top
``labels.depth`` BM25 documents of each are judged by the same judge, LLM and label store as
the annotate stage (so labels it already has cost no call), graded as it grades them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from trustir.annotate.params import AnnotateParams
from trustir.annotate.relevance_labels import grade_rule_expr, judge_with_params
from trustir.llm.config import LLMParams
from trustir.ranking.params import BUCKETS, LlmLabelParams
from trustir.retrieval.bm25 import document_texts
from trustir.retrieval.regimes import llm_source_of
from trustir.sources.subset import stable_order


@dataclass
class LlmLabels:
    qrels: pl.DataFrame  # the annotate stage's LLM qrels + the added ones (one source)
    labels: pl.DataFrame  # the labels table of the added judgments
    summary: dict[str, Any]  # result figures only
    run: dict[str, Any] = field(default_factory=dict)  # this run's ledger counts (run ledger)


def plan_queries(
    queries: pl.DataFrame, buckets: pl.DataFrame, llm_qrels: pl.DataFrame, p: LlmLabelParams
) -> dict[str, list[str]]:
    """bucket -> the train queries to add (beyond those already labelled)."""
    train = queries.filter(pl.col("split") == "train").join(buckets, on="query_id")
    have = set(llm_qrels["query_id"].to_list())
    plan = {}
    for bucket in BUCKETS:
        ids = train.filter(pl.col("bucket") == bucket)["query_id"].to_list()
        done = [q for q in ids if q in have]
        todo = stable_order([q for q in ids if q not in have], p.seed)
        plan[bucket] = todo[: max(0, p.queries_per_bucket - len(done))]
    return plan


def coverage(queries: pl.DataFrame, buckets: pl.DataFrame, qrels: pl.DataFrame) -> dict[str, int]:
    """bucket -> train queries with at least one LLM label."""
    train = queries.filter(pl.col("split") == "train").join(buckets, on="query_id")
    have = train.join(qrels.select("query_id").unique(), on="query_id", how="semi")
    counts = dict(have.group_by("bucket").len().iter_rows())
    return {b: int(counts.get(b, 0)) for b in BUCKETS}


def extend_llm_labels(
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    buckets: pl.DataFrame,
    llm_qrels: pl.DataFrame,
    bm25_run: pl.DataFrame,
    p: LlmLabelParams,
    annotate: AnnotateParams,
    llm: LLMParams,
    min_rel: int,
    show_progress: bool = True,
) -> LlmLabels:
    """The annotate stage's LLM qrels plus judgments of the planned queries' top documents."""
    source = llm_source_of(llm_qrels, p.llm_source)
    base = llm_qrels.filter(pl.col("source") == source).select(
        "query_id", "doc_id", "relevance", "source"
    )
    plan = plan_queries(queries, buckets, base, p)
    added = [q for qs in plan.values() for q in qs]
    pairs = (
        bm25_run.filter(pl.col("query_id").is_in(added) & (pl.col("rank") <= p.depth))
        .select("query_id", "doc_id")
        .join(queries.select("query_id", pl.col("text").alias("query")), on="query_id")
        .join(corpus.select("doc_id", pl.Series("doc", document_texts(corpus))), on="doc_id")
        .sort(["query_id", "doc_id"])
    )
    summary: dict[str, Any] = {
        "source": source,
        "added_queries": {b: len(v) for b, v in plan.items()},
    }
    labels = pl.DataFrame()
    qrels = base
    run: dict[str, Any] = {}
    if pairs.height:
        labels, ledger = judge_with_params(pairs, annotate, llm, "ltr-labels", show_progress)
        # this stage's labels table has always had the ids last
        labels = labels.select(pl.exclude("query_id", "doc_id"), "query_id", "doc_id")
        new = labels.filter(pl.col("status") == "ok").select(
            "query_id",
            "doc_id",
            grade_rule_expr(annotate, min_rel).cast(pl.Int64).alias("relevance"),
            pl.lit(source).alias("source"),
        )
        qrels = pl.concat([base, new]).unique(["query_id", "doc_id"], keep="first")
        run = ledger.to_metrics()
        # rows without a usable label (no qrel): unparseable replies, errors (asked again)
        for status in ("unparseable", "error"):
            summary[f"{status}_labels"] = int((labels["status"] == status).sum())
    summary["pairs_added"] = pairs.height
    summary["coverage"] = coverage(queries, buckets, qrels)
    return LlmLabels(qrels.sort("query_id", "doc_id"), labels, summary, run)

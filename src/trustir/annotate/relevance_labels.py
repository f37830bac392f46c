"""The annotate stage's work: pool candidates, judge them with the LLM, write LLM qrels, and
measure agreement with the ground truth (issue 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from trustir.annotate.agreement import agreement
from trustir.annotate.base import get_judge
from trustir.annotate.params import AnnotateParams
from trustir.annotate.pool import pool_candidates, select_queries
from trustir.annotate.run import judge_pairs
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.ledger import COUNTS, Ledger
from trustir.llm.store import LabelStore
from trustir.retrieval.bm25 import document_texts
from trustir.scale.fanout import enabled, fan_out
from trustir.scale.params import FanoutParams
from trustir.schema import GROUND_TRUTH_SOURCES


@dataclass
class AnnotationResult:
    labels: pl.DataFrame  # the labels table of every judged pair
    qrels: pl.DataFrame  # LLM qrels (source "llm:<model>")
    metrics: dict[str, Any]  # {"agreement": {...}, "labels": {...}}: result figures only
    run: dict[str, Any] = field(default_factory=dict)  # this run's ledger counts (run ledger)


def grade_expr(threshold: float | None, min_rel: int, fill_label: bool = False) -> pl.Expr:
    """The LLM qrel grade: the label, or (with a threshold) positives by score. ``fill_label``:
    a judge without labels (scores only) counts as label 0, so its negatives get grade 0."""
    if threshold is None:
        return pl.col("label")
    label = pl.col("label").fill_null(0) if fill_label else pl.col("label")
    return (
        pl.when(pl.col("score") >= threshold)
        .then(pl.max_horizontal(label, pl.lit(min_rel)))
        .otherwise(pl.min_horizontal(label, pl.lit(min_rel - 1)))
    )


def grade_rule_expr(annotate: AnnotateParams, min_rel: int) -> pl.Expr:
    """The LLM qrel grade under ``annotate.grade_rule`` (see :class:`AnnotateParams`)."""
    rule = annotate.rule
    if rule == "label":
        return pl.col("label")
    if rule == "threshold":
        if annotate.threshold is None:
            return pl.col("label")
        return grade_expr(annotate.threshold, min_rel, fill_label=True)
    n = pl.len().over("query_id")
    rank = pl.col("score").rank("ordinal", descending=True).over("query_id")  # 1 = best
    keep = pl.max_horizontal((n * annotate.quantile).ceil(), pl.lit(1))
    return pl.when(rank <= keep).then(pl.lit(min_rel)).otherwise(pl.lit(0)).cast(pl.Int64)


def grade_rule_text(annotate: AnnotateParams, min_rel: int) -> str:
    """The grade rule as the label rows record it, e.g. ``quantile:0.3->2``."""
    if annotate.rule == "quantile":
        return f"quantile:{annotate.quantile}->{min_rel}"
    if annotate.rule == "threshold" and annotate.threshold is not None:
        return f"threshold:{annotate.threshold}->{min_rel}"
    return "label"


def store_path(annotate: AnnotateParams) -> Path | None:
    """The label store file of ``annotate.store`` (None: the default under the cache)."""
    return Path(annotate.store).expanduser() if annotate.store else None


def judge_with_params(
    pairs: pl.DataFrame,
    annotate: AnnotateParams,
    llm: LLMParams,
    run: str,
    show_progress: bool = True,
    fanout: FanoutParams | None = None,
) -> tuple[pl.DataFrame, Ledger]:
    """Judge ``pairs`` through the label store with the annotate/llm params; (labels, ledger).

    ``pairs`` is as :func:`judge_pairs` takes it; only labels missing from the store
    (``annotate.store``) cost LLM calls. The ledger's run is ``<run>-<judge name>`` and is
    appended to the ledger file. The labels carry ``pairs``' ids, row for row. With ``fanout``
    (params ``scale.fanout``) the pairs are judged in shards on a Dask cluster
    (:func:`trustir.scale.fanout.fan_out`), each worker writing its labels to the store; the
    shards are whole flush batches, so every LLM batch, and so every label, is the serial one.
    """
    judge = get_judge(annotate.judge, annotate)
    if enabled(fanout):
        assert fanout is not None  # noqa: S101  narrows the type; enabled() checked it
        size = -(-fanout.shard_size // annotate.flush_every) * annotate.flush_every
        shards = [pairs.slice(i, size) for i in range(0, pairs.height, size)]
        done = fan_out(judge_shard, shards, fanout, name=f"{run}-judge", annotate=annotate, llm=llm)
        ledger = Ledger(run=f"{run}-{judge.name}", model=done[0][1]["model"] if done else "")
        for _, counts in done:
            ledger.add(**{k: counts[k] for k in (*COUNTS, "seconds")})
        labels = (
            pl.concat([lab for lab, _ in done])
            if done
            else _judge_here(pairs, annotate, llm, ledger, show_progress)[0]
        )
    else:
        labels, ledger = _judge_here(pairs, annotate, llm, Ledger(run=f"{run}-{judge.name}"),
                                     show_progress)  # fmt: skip
    ledger.append()
    # the store is keyed by texts; the ids are the ones of this dataset
    labels = (
        labels.drop("query_id", "doc_id")
        .with_columns(pairs["query_id"].alias("query_id"), pairs["doc_id"].alias("doc_id"))
        .select(labels.columns)
    )
    return labels, ledger


def _judge_here(
    pairs: pl.DataFrame,
    annotate: AnnotateParams,
    llm: LLMParams,
    ledger: Ledger,
    show_progress: bool,
) -> tuple[pl.DataFrame, Ledger]:
    """Judge ``pairs`` in this process (the serial path, and each shard's)."""
    judge = get_judge(annotate.judge, annotate)
    backend = make_backend(llm)
    ledger.model = ledger.model or backend.model_id
    with LabelStore(store_path(annotate), flush_every=annotate.flush_every) as store:
        labels = judge_pairs(
            judge,
            backend,
            store,
            pairs,
            annotate.mode,
            ledger,
            annotate.flush_every,
            show_progress=show_progress,
        )
    return labels, ledger


def judge_shard(
    pairs: pl.DataFrame, annotate: AnnotateParams, llm: LLMParams
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """One shard of :func:`judge_with_params` on a Dask worker: its labels (written to the
    store as they come, so a rescheduled shard computes only what is missing) and its ledger
    counts. The backend is loaded once per worker process (``make_backend`` caches it)."""
    labels, ledger = _judge_here(pairs, annotate, llm, Ledger(), show_progress=False)
    return labels, ledger.to_dict() | {"seconds": ledger.seconds}


def annotate_candidates(
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    qrels: pl.DataFrame,
    runs: list[pl.DataFrame],
    params: AnnotateParams,
    llm: LLMParams,
    min_rel: int,
    show_progress: bool = True,
    fanout: FanoutParams | None = None,
) -> AnnotationResult:
    """Judge the pooled candidates of the selected queries; only labels missing from the store
    cost LLM calls."""
    chosen = select_queries(queries, params.split, params.max_queries)
    pairs = pool_candidates(runs, chosen["query_id"].to_list(), params.depth)
    docs = corpus.select("doc_id", pl.Series("doc", document_texts(corpus)))
    pairs = (
        pairs.join(chosen.select("query_id", pl.col("text").alias("query")), on="query_id")
        .join(docs, on="doc_id")
        .sort(["query_id", "doc_id"])
    )
    labels, ledger = judge_with_params(pairs, params, llm, "annotate", show_progress, fanout)
    ok = labels.filter(pl.col("status") == "ok")  # unparseable and error rows are no qrels
    graded = ok.with_columns(
        grade_rule_expr(params, min_rel).cast(pl.Int64).alias("grade"),
        pl.lit(grade_rule_text(params, min_rel)).alias("grade_rule"),
    )
    labels = labels.join(
        graded.select("key", "grade", "grade_rule"), on="key", how="left", maintain_order="left"
    )
    llm_qrels = graded.select(
        "query_id",
        "doc_id",
        pl.col("grade").alias("relevance"),
        pl.lit(f"llm:{llm.model}").alias("source"),
    )
    truth = qrels.filter(pl.col("source").is_in(list(GROUND_TRUTH_SOURCES)))
    metrics = {
        "agreement": agreement(llm_qrels, truth, min_rel),
        "labels": {
            "queries": chosen.height,
            "pairs": labels.height,
            "unparseable": int((labels["status"] == "unparseable").sum()),
            "errors": int((labels["status"] == "error").sum()),  # no reading; asked again
            "positives_per_query": (
                llm_qrels.filter(pl.col("relevance") >= min_rel).height / max(chosen.height, 1)
            ),
        },
    }
    return AnnotationResult(
        labels=labels, qrels=llm_qrels, metrics=metrics, run=ledger.to_metrics()
    )

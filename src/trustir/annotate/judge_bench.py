"""The judge_bench stage's work: pool train pairs, judge them with every judge, score the judges.

Issue 13. Labels go through the label store (a forced re-run costs no calls); each judge's calls,
tokens and seconds go to the run ledger (``Ledger.append``), never into the result table. The
annotate stage's label rows seed the store first (:func:`seed_store`): where annotate's judge
already scored a bench pair (same key: model, prompt hash, decoding and texts) the bench reuses
that row instead of asking the model again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from trustir.annotate.bench import CALIBRATED, cross_fitted, judge_measures, run_scores
from trustir.annotate.bench_params import JudgeBenchParams
from trustir.annotate.params import AnnotateParams
from trustir.annotate.pool import pool_candidates
from trustir.annotate.relevance_labels import judge_with_params, store_path
from trustir.llm.config import LLMParams
from trustir.llm.store import LabelStore
from trustir.report.provenance import Provenance
from trustir.report.table import Table
from trustir.retrieval.bm25 import document_texts

TRUTH_SOURCES = ("world", "human")  # the world's grades where present, else human qrels


def truth_qrels(qrels: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """(query_id, doc_id, truth) of the first ground-truth source present, and its name."""
    for source in TRUTH_SOURCES:
        part = qrels.filter(pl.col("source") == source)
        if part.height:
            truth = part.group_by("query_id", "doc_id").agg(
                pl.col("relevance").max().alias("truth")
            )
            return truth, source
    raise ValueError(f"the qrels hold no ground truth (sources {TRUTH_SOURCES}): nothing to bench")


def bench_pairs(
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    qrels: pl.DataFrame,
    runs: Mapping[str, pl.DataFrame],
    bench: JudgeBenchParams,
) -> tuple[pl.DataFrame, str]:
    """The pooled train pairs (query_id, doc_id, query, doc, truth, one score column per run),
    and the truth's source. Only train queries with truth labels are pooled."""
    truth, source = truth_qrels(qrels)
    labelled = truth.select("query_id").unique()
    chosen = (
        queries.filter(pl.col("split") == "train")
        .join(labelled, on="query_id", how="semi")
        .sort("query_id")
        .head(bench.max_queries)
    )
    if chosen.height == 0:
        raise ValueError("judge_bench: no train query has truth labels (BEIR: qrels/train.tsv)")
    pairs = pool_candidates(list(runs.values()), chosen["query_id"].to_list(), bench.depth)
    docs = corpus.select("doc_id", pl.Series("doc", document_texts(corpus)))
    frame = (
        pairs.join(chosen.select("query_id", pl.col("text").alias("query")), on="query_id")
        .join(docs, on="doc_id")
        .join(truth, on=["query_id", "doc_id"], how="left")
        .with_columns(pl.col("truth").fill_null(0))
        .sort(["query_id", "doc_id"])
    )
    for name, run in runs.items():
        frame = run_scores(frame, run, f"run:{name}")
    return frame, source


def seed_store(annotate: AnnotateParams, labels: pl.DataFrame | None) -> int:
    """Copy ``labels`` (the annotate stage's label rows) into the label store where the store
    lacks their key; returns the rows added. Only ``ok`` rows are copied; a key is a content
    address, so a copied row is found only by a judgment with the same model, prompt hash,
    decoding and texts. The store's own rows are never overwritten."""
    if labels is None or labels.height == 0:
        return 0
    ok = labels.filter(pl.col("status") == "ok").drop("grade", "grade_rule", strict=False)
    with LabelStore(store_path(annotate), flush_every=annotate.flush_every) as store:
        todo = set(store.missing(ok["key"].to_list(), retry_errors=True))
        return store.put_many(r for r in ok.iter_rows(named=True) if r["key"] in todo)


def judge_scores(
    frame: pl.DataFrame,
    bench: JudgeBenchParams,
    annotate: AnnotateParams,
    llm: LLMParams,
    show_progress: bool = True,
) -> tuple[pl.DataFrame, dict[str, dict[str, Any]]]:
    """``frame`` with one score column per judge (through the label store; a pair whose label
    failed gets the judge's lowest score), and each judge's ledger counts."""
    costs: dict[str, dict[str, Any]] = {}
    for name in bench.judges:
        params = annotate.model_copy(update={"judge": name, "mode": "score"})
        labels, ledger = judge_with_params(frame, params, llm, "judge_bench", show_progress)
        costs[name] = ledger.to_metrics()
        score = labels["score"].cast(pl.Float64)
        floor = score.min() if score.drop_nulls().len() else 0.0
        frame = frame.with_columns(score.fill_null(floor).alias(name))
        costs[name]["failed_pairs"] = int(labels["score"].is_null().sum())
    return frame, costs


def bench_table(
    frame: pl.DataFrame,
    bench: JudgeBenchParams,
    min_rel: int,
    dataset: str,
    source: str,
    provenance: Provenance | None = None,
) -> Table:
    """The judges table: a row per judge, per run and for the calibrated combination."""
    rows = [*bench.judges, *[c for c in frame.columns if c.startswith("run:")]]
    if bench.calibrate:
        if bench.calibrate not in frame.columns:
            raise ValueError(f"judge_bench.calibrate {bench.calibrate!r} is not a benched judge")
        feats = [bench.calibrate, *[c for c in frame.columns if c.startswith("run:")]]
        frame = frame.with_columns(
            pl.Series(CALIBRATED, cross_fitted(frame, feats, min_rel, bench.folds, bench.seed))
        )
        rows.append(CALIBRATED)
    cells: dict[str, dict[str, float]] = {}
    per: list[pl.DataFrame] = []
    for row in rows:
        c, values = judge_measures(frame, row, min_rel, bench.quantile)
        cells[row] = c  # type: ignore[assignment]
        per.append(values.select(pl.lit(row).alias("row"), "column", "query_id", "value"))
    n_pos = int((frame["truth"] >= min_rel).sum())
    notes = [
        f"{frame.height} pooled train pairs of {frame['query_id'].n_unique()} queries "
        f"({n_pos} positive: {source} grade >= {min_rel}); the same pairs for every row.",
        f"kappa: each row's top {bench.quantile:.0%} of each query's pool against the truth; "
        "AUC's per-pair values are each positive's share of negatives beaten.",
    ]
    if bench.calibrate:
        notes.append(
            f"{CALIBRATED}: logistic regression of {bench.calibrate} with the run scores "
            f"(z-scored per query), cross-fitted over {bench.folds} query folds of train labels."
        )
    return Table(
        name="judges",
        title=f"LLM judges on pooled train pairs ({dataset})",
        cells=cells,
        per_query=pl.concat(per).filter(pl.col("value").is_not_nan()),
        row_label="judge",
        provenance=provenance or Provenance(),
        notes=notes,
    )

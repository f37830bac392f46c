"""The ltr stage's work (P8): features, every ranker x supervision trained on the train queries,
each re-ranking the test queries' top BM25 candidates, nDCG@10 per frequency bucket.

Training lists: a train query's click-labelled documents (the ``click_model``'s click qrels,
fitted on the label share of the log) and its LLM-labelled documents (``ltr_labels``), each
with its features; test candidates: the top ``depth`` BM25 documents of every test query. The
BM25 order of the same candidates is the ``bm25/none`` baseline row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from trustir.evaluate.measures import evaluate_run, evaluation_qrels
from trustir.io.stable import round_scores
from trustir.ranking.buckets import bucket_edges, famol_weight
from trustir.ranking.features import FeatureSources, build_features, feature_names
from trustir.ranking.inputs import fetched
from trustir.ranking.params import BUCKETS, LtrParams
from trustir.ranking.rankers.base import RANKERS
from trustir.ranking.supervision import (
    LabelledSet,
    NoTrainingData,
    build_phases,
    labelled_set,
    train_ranker,
)
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params

MEASURE = "nDCG@10"
BASELINE = "bm25/none"


@dataclass
class LtrInputs:
    """What the ltr stage reads (optional tables may be None)."""

    corpus: pl.DataFrame
    queries: pl.DataFrame
    qrels: pl.DataFrame  # ground truth (fetch)
    runs: dict[str, pl.DataFrame]  # "bm25", "dense"
    sessions: pl.DataFrame  # the query log with ``part``
    frequencies: pl.DataFrame  # query_id, freq, bucket
    click_qrels: pl.DataFrame  # every click model's
    llm_qrels: pl.DataFrame  # ltr_labels' (one llm source)
    domains: pl.DataFrame | None = None
    entities: pl.DataFrame | None = None


@dataclass
class LtrResult:
    cells: dict[str, dict[str, float | None]]
    per_query: pl.DataFrame  # row, column, query_id, value
    info: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)  # per-run figures (seconds): the run ledger


def load_inputs(root: Path, params: Params) -> LtrInputs:
    """The ltr stage's inputs: fetch tables, BM25 and dense runs, the clicks and ltr_labels
    stages' outputs."""
    t = fetched(root)
    clicks = read_tables(root / "data/clicks", ["sessions", "frequencies", "qrels"])
    index = root / "data/index"
    return LtrInputs(
        corpus=t["corpus"],
        queries=t["queries"],
        qrels=t["qrels"],
        runs={
            "bm25": pl.read_parquet(index / f"{params.index.bm25.name}.run.parquet"),
            "dense": pl.read_parquet(index / f"{params.index.dense.name}.run.parquet"),
        },
        sessions=clicks["sessions"],
        frequencies=clicks["frequencies"],
        click_qrels=clicks["qrels"],
        llm_qrels=pl.read_parquet(root / "data/ltr_labels/qrels.parquet"),
        domains=t["domains"],
        entities=t["entities"],
    )


def row_name(ranker: str, supervision: str) -> str:
    return f"{ranker}/{supervision}"


def candidates(inputs: LtrInputs, depth: int) -> pl.DataFrame:
    """(query_id, doc_id) of every test query's top ``depth`` BM25 documents."""
    test = inputs.queries.filter(pl.col("split") == "test").select("query_id")
    return (
        inputs.runs["bm25"]
        .join(test, on="query_id", how="semi")
        .filter(pl.col("rank") <= depth)
        .sort("query_id", "rank")
        .select("query_id", "doc_id")
    )


def training_labels(inputs: LtrInputs, params: LtrParams) -> dict[str, pl.DataFrame]:
    """{"click", "llm"}: labels (query_id, doc_id, relevance) of the train queries."""
    train = inputs.queries.filter(pl.col("split") == "train").select("query_id")
    click = inputs.click_qrels.filter(pl.col("source") == f"click:{params.click_model}")
    if click.height == 0:
        raise ValueError(f"no click qrels of click_model {params.click_model!r}: re-run clicks")
    return {
        "click": click.join(train, on="query_id", how="semi"),
        "llm": inputs.llm_qrels.join(train, on="query_id", how="semi"),
    }


def score_table(
    run: pl.DataFrame, truth: pl.DataFrame, buckets: pl.DataFrame, row: str, min_rel: int
) -> tuple[dict[str, float | None], pl.DataFrame]:
    """nDCG@10 overall and per bucket of one run, and its per-query values (every column)."""
    _, pq = evaluate_run(run, truth, [MEASURE], min_rel)
    pq = pq.join(buckets.select("query_id", "bucket"), on="query_id", how="left")
    cells: dict[str, float | None] = {}
    parts = []
    for bucket in BUCKETS:
        sub = pq.filter(pl.col("bucket") == bucket)
        cells[f"{MEASURE}/{bucket}"] = float(sub["value"].mean()) if sub.height else None
        parts.append(sub.select(pl.lit(f"{MEASURE}/{bucket}").alias("column"), "query_id", "value"))
    cells[MEASURE] = float(pq["value"].mean()) if pq.height else None
    parts.append(pq.select(pl.lit(MEASURE).alias("column"), "query_id", "value"))
    per_query = pl.concat(parts).select(pl.lit(row).alias("row"), "column", "query_id", "value")
    return cells, per_query


def as_run(cands: pl.DataFrame, scores: np.ndarray, name: str) -> pl.DataFrame:
    """A run from candidate scores rounded as ``trustir.io.stable`` states (ranks by score, ties
    by doc id)."""
    return (
        round_scores(cands.with_columns(pl.Series("score", scores, dtype=pl.Float64)))
        .sort(["query_id", "score", "doc_id"], descending=[False, True, False])
        .with_columns(
            pl.int_range(1, pl.len() + 1).over("query_id").alias("rank"), pl.lit(name).alias("run")
        )
    )


def set_summary(s: LabelledSet, buckets: pl.DataFrame) -> dict[str, Any]:
    by = dict(buckets.select("query_id", "bucket").iter_rows())
    counts = {b: sum(by.get(q) == b for q in s.query_ids) for b in BUCKETS}
    return {"queries": len(s.query_ids), "rows": int(s.y.shape[0]), "queries_by_bucket": counts}


def run_ltr(
    inputs: LtrInputs, params: LtrParams, min_rel: int, show_progress: bool = True
) -> LtrResult:
    """Every ranker x supervision (and the BM25 baseline) scored per frequency bucket."""
    names = feature_names(params.click_features)
    labels = training_labels(inputs, params)
    cands = candidates(inputs, params.depth)
    pairs = pl.concat([cands, *(lab.select("query_id", "doc_id") for lab in labels.values())])
    src = FeatureSources(
        corpus=inputs.corpus,
        queries=inputs.queries,
        frequencies=inputs.frequencies.select("query_id", "freq"),
        runs=inputs.runs,
        domains=inputs.domains,
        entities=inputs.entities,
        click_history=inputs.sessions.filter(pl.col("part") == "features"),
    )
    feats = build_features(pairs, src, names)
    sets = {k: labelled_set(k, feats, lab, names) for k, lab in labels.items()}
    x_test = (
        cands.join(feats, on=["query_id", "doc_id"], how="left", maintain_order="left")
        .select(names)
        .to_numpy()
    )
    truth = evaluation_qrels(inputs.qrels, inputs.queries)
    if truth.height == 0:
        raise ValueError("no ground-truth qrels for test queries: nothing to evaluate")
    freq = dict(inputs.frequencies.select("query_id", "freq").iter_rows())
    edges = bucket_edges(inputs.frequencies)
    fam = params.famol

    def weight_of(q: str) -> float:
        return famol_weight(float(freq.get(q, 1)), edges, fam.w_min, fam.w_max)

    bm25_scores = cands.join(
        inputs.runs["bm25"], on=["query_id", "doc_id"], how="left", maintain_order="left"
    )["score"]
    bm25 = as_run(cands, bm25_scores.to_numpy(), "bm25")
    cells, pq = score_table(bm25, truth, inputs.frequencies, BASELINE, min_rel)
    table, per_query = {BASELINE: cells}, [pq]
    info: dict[str, Any] = {
        "features": names,
        "training": {k: set_summary(s, inputs.frequencies) for k, s in sets.items()},
        "skipped": {},
    }
    seconds: dict[str, float] = {}
    grid = [(r, s) for r in params.rankers for s in params.supervisions]
    for ranker, sup in tqdm(grid, desc="ltr", disable=not show_progress):
        row = row_name(ranker, sup)
        t0 = time.perf_counter()
        try:
            phases = build_phases(sup, sets["click"], sets["llm"], weight_of, params.schedule_share)
        except NoTrainingData as exc:
            table[row] = {f"{MEASURE}/{b}": None for b in BUCKETS} | {MEASURE: None}
            info["skipped"][row] = str(exc)
            continue
        model = train_ranker(lambda r=ranker: RANKERS.get(r)(params), phases)
        cells, pq = score_table(
            as_run(cands, model.score(x_test), row), truth, inputs.frequencies, row, min_rel
        )
        table[row], seconds[row] = cells, round(time.perf_counter() - t0, 3)
        per_query.append(pq)
    return LtrResult(table, pl.concat(per_query), info, {"seconds": seconds})

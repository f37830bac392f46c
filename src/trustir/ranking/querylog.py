"""The clicks stage's work (P8): simulate the query log, bucket queries by frequency, fit the
click models, turn their estimates into click qrels, and evaluate them (world and Yandex).

The log of each query is split in order: its first ``clicks.feature_share`` of sessions (the
*feature* part) feed the rankers' click features and are the click models' held-out test
sessions; the rest (the *label* part) fit the click models, whose estimates become the click
labels. Click qrels grade a pair by how many of ``clicks.grade_quantiles`` of its model's
estimates it exceeds (0-3), keeping the estimate as ``score``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from trustir.io.clicklog import read_yandex_condensed
from trustir.paths import resolve_data_path
from trustir.ranking.buckets import frequency_buckets
from trustir.ranking.clickmodels.base import CLICK_MODELS, ClickModel, Sessions
from trustir.ranking.clickmodels.evaluate import log_likelihood, per_query, perplexity, recovery
from trustir.ranking.params import LtrParams
from trustir.report import Provenance, Table
from trustir.schema import GROUND_TRUTH_SOURCES
from trustir.sources.world.clicks import assign_frequencies, simulate_click_log
from trustir.sources.world.streams import facet_rng

YANDEX_FILES = ("trainSample", "testSample")


@dataclass
class ClickLogResult:
    sessions: pl.DataFrame  # the log, with part = "features" | "labels"
    frequencies: pl.DataFrame  # query_id, freq, bucket
    qrels: pl.DataFrame  # click qrels of every model: ..., source "click:<model>", score
    table: Table  # the clickmodels table


def ground_truth(qrels: pl.DataFrame) -> pl.DataFrame:
    """query_id, doc_id, relevance: the best ground-truth grade of each pair."""
    return (
        qrels.filter(pl.col("source").is_in(list(GROUND_TRUTH_SOURCES)))
        .group_by("query_id", "doc_id")
        .agg(pl.col("relevance").max())
    )


def split_log(sessions: pl.DataFrame, feature_share: float) -> pl.DataFrame:
    """Add ``part``: the first floor(share * n) sessions of each query are "features"."""
    n = sessions.group_by("query_id").agg((pl.col("seq").max() + 1).alias("_n"))
    return (
        sessions.join(n, on="query_id")
        .with_columns(
            pl.when(pl.col("seq") < (pl.col("_n") * feature_share).floor())
            .then(pl.lit("features"))
            .otherwise(pl.lit("labels"))
            .alias("part")
        )
        .drop("_n")
    )


def simulate_log(tables: dict[str, pl.DataFrame], params: LtrParams, seed: int):
    """(sessions with parts, frequencies with buckets) of the dataset in ``tables``."""
    rng = facet_rng(seed, "clicks")
    freqs = assign_frequencies(tables["queries"], rng)
    buckets = frequency_buckets(freqs, params.buckets)
    levels = None
    if tables.get("domains") is not None and "domain" in tables["corpus"].columns:
        levels = (
            tables["corpus"]
            .select("doc_id", "domain")
            .join(tables["domains"].select("domain", "level"), on="domain", how="left")
        )
    queries = tables["queries"].select("query_id", "text").join(freqs, on="query_id")
    log = simulate_click_log(
        queries,
        tables["corpus"],
        ground_truth(tables["qrels"]),
        levels,
        rng,
        **params.log.model_dump(),
    )
    return split_log(log, params.clicks.feature_share), buckets


def fit_models(sessions: Sessions, params: LtrParams) -> dict[str, ClickModel]:
    c = params.clicks
    return {
        name: CLICK_MODELS.get(name)(prior=c.prior, iterations=c.em_iterations).fit(sessions)
        for name in tqdm(c.models, desc="click models", leave=False)
    }


def click_qrels(models: dict[str, ClickModel], quantiles: list[float]) -> pl.DataFrame:
    """Click qrels of every model: grade = number of the model's estimate quantiles exceeded."""
    parts = []
    for name, model in models.items():
        rel = model.relevance()
        cuts = np.quantile(rel["relevance"].to_numpy(), quantiles)
        grade = sum((pl.col("score") > float(t)).cast(pl.Int64) for t in cuts)
        parts.append(
            rel.rename({"relevance": "score"}).select(
                "query_id",
                "doc_id",
                grade.alias("relevance"),
                pl.lit(f"click:{name}").alias("source"),
                "score",
                "impressions",
            )
        )
    return pl.concat(parts)


def evaluate_models(
    models: dict[str, ClickModel], test: Sessions | None, truth: pl.DataFrame | None, tag: str
) -> tuple[dict[str, dict[str, float]], list[pl.DataFrame]]:
    """{model: {"LL/<tag>", "perplexity/<tag>", ["pearson/<tag>", "spearman/<tag>"]}} and the
    per-query values (row, column, query_id, value)."""
    cells: dict[str, dict[str, float]] = {}
    per_q = []
    for name, model in models.items():
        row: dict[str, float] = {}
        if test is not None:
            row[f"LL/{tag}"] = log_likelihood(model, test)
            row[f"perplexity/{tag}"] = perplexity(model, test)
            pq = per_query(model, test)
            for measure in ("LL", "perplexity"):
                per_q.append(
                    pq.select(
                        pl.lit(name).alias("row"),
                        pl.lit(f"{measure}/{tag}").alias("column"),
                        "query_id",
                        pl.col(measure).cast(pl.Float64).alias("value"),
                    )
                )
        if truth is not None:
            rec = recovery(model, truth)
            row[f"pearson/{tag}"], row[f"spearman/{tag}"] = rec["pearson"], rec["spearman"]
        cells[name] = {k: (None if v != v else v) for k, v in row.items()}  # NaN -> null
    return cells, per_q


def yandex_evaluation(folder: Path, params: LtrParams):
    """Click models fitted on the Yandex trainSample, scored on its testSample."""
    cap = params.clicks.yandex_max_sessions
    train, test = (read_yandex_condensed(folder / f, max_sessions=cap) for f in YANDEX_FILES)
    models = fit_models(Sessions.from_frame(train), params)
    return evaluate_models(models, Sessions.from_frame(test), None, "yandex")


def run_click_log(
    tables: dict[str, pl.DataFrame],
    params: LtrParams,
    seed: int,
    root: Path,
    provenance: Provenance | None = None,
) -> ClickLogResult:
    """The clicks stage: log, buckets, click models, click qrels and the clickmodels table."""
    sessions, buckets = simulate_log(tables, params, seed)
    label_part = sessions.filter(pl.col("part") == "labels")
    held_out = sessions.filter(pl.col("part") == "features")
    models = fit_models(Sessions.from_frame(label_part), params)
    truth = ground_truth(tables["qrels"])
    test = Sessions.from_frame(held_out) if held_out.height else None
    cells, per_q = evaluate_models(models, test, truth, "world")
    notes = [
        f"World: {sessions['session_id'].n_unique()} simulated sessions over "
        f"{sessions['query_id'].n_unique()} queries; models fitted on the label share "
        f"({label_part['session_id'].n_unique()} sessions), LL (natural log, per shown result, "
        "conditional on clicks above) and perplexity (marginal, averaged over ranks) on the "
        "held-out feature share; pearson/spearman: estimates vs the true grades of the pairs "
        "the models saw (unjudged = 0)."
    ]
    if params.clicks.yandex is not None:
        folder = resolve_data_path(params.clicks.yandex, root)
        y_cells, y_pq = yandex_evaluation(folder, params)
        for name, row in y_cells.items():
            cells[name].update(row)
        per_q += y_pq
        notes.append(
            "Yandex: PyClick's WSCD 2012 sample, fitted on trainSample, scored on testSample."
        )
    else:
        notes.append("Yandex: not evaluated (ltr.clicks.yandex is null; see profiles/lab.yaml).")
    table = Table(
        name="clickmodels",
        title="Click models (P8): held-out log-likelihood, perplexity, relevance recovery",
        cells=cells,
        higher_is_better={c: not c.startswith("perplexity") for r in cells.values() for c in r},
        per_query=pl.concat(per_q) if per_q else None,
        row_label="click model",
        provenance=provenance or Provenance(),
        notes=notes,
    )
    qrels = click_qrels(models, params.clicks.grade_quantiles)
    return ClickLogResult(sessions, buckets, qrels, table)

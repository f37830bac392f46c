"""The judge bench (issue 13): every judge scored on the same pooled pairs against the truth.

For each judge: AUC of its scores (a positive = truth grade >= min_rel), Cohen's kappa of its
binary decisions (the top ``quantile`` of each query's pool, the same rule for every judge) with
the truth, and nDCG@10 of re-ranking each query's pool by its scores. The truth is the world's
grades on the world, human qrels on a BEIR folder (train queries with labels only). Reference
rows need no LLM: the first-stage runs' scores, and a logistic combination of the
query-likelihood score with them, cross-fitted over query folds (each fold scored by a model fitted
on the other folds' train labels only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl

from trustir.annotate.agreement import cohen_kappa

#: the combination's inputs: the LLM judge, then the first-stage runs
CALIBRATED = "calibrated"


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """The probability that a random positive outscores a random negative (ties count half);
    NaN without both classes."""
    return float(np.mean(auc_per_positive(scores, positive))) if any(positive) else math.nan


def auc_per_positive(scores: Sequence[float], positive: Sequence[bool]) -> np.ndarray:
    """For each positive, the fraction of negatives it outscores (ties half): their mean is the
    AUC, so these are the per-pair values behind it (``trustir compare`` tests them)."""
    s = np.asarray(scores, dtype=np.float64)  # [n]
    pos = np.asarray(positive, dtype=bool)  # [n]
    neg = s[~pos]
    if neg.size == 0 or not pos.any():
        return np.full(int(pos.sum()), math.nan)
    sp = s[pos][:, None]  # [n_pos, 1]
    return ((sp > neg[None, :]).sum(1) + 0.5 * (sp == neg[None, :]).sum(1)) / neg.size


def top_fraction(scores: pl.Expr, quantile: float) -> pl.Expr:
    """True for the top ``ceil(quantile * n)`` pairs of each query by score (at least one)."""
    n = pl.len().over("query_id")
    rank = scores.rank("ordinal", descending=True).over("query_id")
    return rank <= pl.max_horizontal((n * quantile).ceil(), pl.lit(1))


def ndcg_at(gains_in_order: Sequence[float], k: int = 10) -> float:
    """nDCG@k of one ranked list (linear gains, as trec_eval); the ideal is the list's own best
    order. NaN when nothing in the list is relevant."""
    g = np.asarray(gains_in_order, dtype=np.float64)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.sort(g)[::-1][:k]
    idcg = float(ideal @ disc[: ideal.size])
    if idcg <= 0:
        return math.nan
    return float(g[:k] @ disc[: min(k, g.size)]) / idcg


def per_query_ndcg(frame: pl.DataFrame, score: str, k: int = 10) -> pl.DataFrame:
    """(query_id, value): nDCG@k of each query's pool ordered by ``score`` (ties by doc_id)."""
    rows = []
    ordered = frame.sort(["query_id", score, "doc_id"], descending=[False, True, False])
    for (qid,), part in ordered.group_by(["query_id"], maintain_order=True):
        rows.append((qid, ndcg_at(part["truth"].to_list(), k)))
    return pl.DataFrame(rows, schema={"query_id": pl.String, "value": pl.Float64}, orient="row")


def judge_measures(
    frame: pl.DataFrame, score: str, min_rel: int, quantile: float
) -> tuple[dict[str, float | None], pl.DataFrame]:
    """AUC, kappa and nDCG@10 of the column ``score`` of ``frame`` (query_id, doc_id, truth,
    scores; no nulls in ``score``), and the per-pair/per-query values behind AUC and nDCG@10
    (row-less: column, query_id, value)."""
    pos = (frame["truth"] >= min_rel).to_numpy()
    s = frame[score].to_numpy()
    auc_vals = auc_per_positive(s, pos)
    decided = frame.select(top_fraction(pl.col(score), quantile).alias("d"))["d"].to_numpy()
    kappa = cohen_kappa(decided.astype(np.int64), pos.astype(np.int64), 2)
    nd = per_query_ndcg(frame, score)
    pair_ids = (frame["query_id"] + "|" + frame["doc_id"]).filter(pl.Series(pos))
    values = pl.concat(
        [
            pl.DataFrame({"column": "AUC", "query_id": pair_ids, "value": auc_vals}),
            nd.select(pl.lit("nDCG@10").alias("column"), "query_id", "value"),
        ]
    )

    def clean(v: float) -> float | None:
        return None if v is None or math.isnan(v) else float(v)

    cells = {
        "AUC": clean(float(np.mean(auc_vals)) if auc_vals.size else math.nan),
        "kappa": clean(kappa),
        "nDCG@10": clean(float(np.nanmean(nd["value"].to_numpy())) if nd.height else math.nan),
    }
    return cells, values


def run_scores(frame: pl.DataFrame, run: pl.DataFrame, name: str) -> pl.DataFrame:
    """``frame`` with a column ``name``: the run's score of each pair; a pair the run did not
    retrieve gets just under the query's lowest retrieved score (ranked below them all)."""
    got = frame.join(
        run.select("query_id", "doc_id", pl.col("score").cast(pl.Float64).alias(name)),
        on=["query_id", "doc_id"],
        how="left",
    )
    floor = run.group_by("query_id").agg((pl.col("score").min() - 1e-3).alias("_floor"))
    return (
        got.join(floor, on="query_id", how="left")
        .with_columns(pl.coalesce(name, "_floor", pl.lit(-1e9)).alias(name))
        .drop("_floor")
    )


def cross_fitted(
    frame: pl.DataFrame, features: Sequence[str], min_rel: int, folds: int = 2, seed: int = 0
) -> np.ndarray:
    """Out-of-fold P(relevant) from a logistic regression on ``features`` (z-scored per query:
    scores of different queries are not on one scale), with query-level folds: a query's pairs
    are scored by a model fitted on the other folds' pairs only."""
    z = frame.select(
        "query_id",
        *[
            ((pl.col(f) - pl.col(f).mean().over("query_id")) / (pl.col(f).std().over("query_id")))
            .fill_nan(0.0)
            .fill_null(0.0)
            .alias(f)
            for f in features
        ],
    )
    x = z.select(features).to_numpy()  # [n, n_features]
    y = (frame["truth"] >= min_rel).to_numpy().astype(int)  # [n]
    qids = sorted(set(frame["query_id"].to_list()))
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(qids, rng.permutation(len(qids)) % folds, strict=True))
    fold = np.array([fold_of[q] for q in frame["query_id"].to_list()])
    out = np.full(len(y), np.nan)
    for f in range(folds):
        train, test = fold != f, fold == f
        if len(set(y[train])) < 2:  # one class only: no model, the first feature as is
            out[test] = x[test, 0]
            continue
        w = fit_logistic(x[train], y[train])
        out[test] = 1.0 / (1.0 + np.exp(-(x[test] @ w[1:] + w[0])))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method: weights [bias, *features]
    minimising sum log-loss + l2/2 |w|^2 (the bias unpenalised)."""
    xb = np.hstack([np.ones((x.shape[0], 1)), x])  # [n, 1 + d]
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))  # [n]
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg) + 1e-9 * np.eye(xb.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w

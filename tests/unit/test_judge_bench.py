"""The judge bench's measures on hand-worked inputs: AUC (and its per-pair values), kappa of the
per-query top fraction, nDCG@10 of re-ranking the pool, run scores, the cross-fitted combination."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from trustir.annotate.bench import (
    auc_per_positive,
    cross_fitted,
    fit_logistic,
    judge_measures,
    ndcg_at,
    roc_auc,
    run_scores,
)
from trustir.annotate.bench_params import JudgeBenchParams
from trustir.annotate.judge_bench import bench_table, truth_qrels


def test_auc_counts_negatives_beaten_ties_half() -> None:
    # positives 0.9 (beats both 0.8s) and 0.3 (beats none): AUC (1 + 0) / 2
    assert roc_auc([0.9, 0.8, 0.3, 0.8], [True, False, True, False]) == 0.5
    assert auc_per_positive([1.0, 1.0, 0.0], [True, False, False]).tolist() == [0.75]
    assert math.isnan(roc_auc([1.0, 2.0], [False, False]))


def test_ndcg_at_10_linear_gains() -> None:
    # DCG = 2/log2(3) + 1/log2(4); ideal = 2 + 1/log2(3)
    want = (2 / math.log2(3) + 0.5) / (2 + 1 / math.log2(3))
    assert ndcg_at([0, 2, 1]) == pytest.approx(want)
    assert ndcg_at([1, 0]) == 1.0 and math.isnan(ndcg_at([0, 0]))
    assert ndcg_at([0] * 10 + [1]) == 0.0  # the only relevant one is at rank 11


FRAME = pl.DataFrame(
    {
        "query_id": ["a", "a", "a", "a", "b", "b"],
        "doc_id": ["d1", "d2", "d3", "d4", "d5", "d6"],
        "truth": [2, 0, 2, 0, 0, 3],
        "j": [3.0, 2.0, 1.0, 0.0, 5.0, 6.0],
    }
)


def test_judge_measures_hand_worked() -> None:
    cells, values = judge_measures(FRAME, "j", min_rel=2, quantile=0.25)
    # positives 3.0 (beats 2, 0, 5? no: negatives are 2, 0, 5 -> beats 2) ... all pooled:
    # negatives {2, 0, 5}; 3.0 beats 2 and 0 -> 2/3; 1.0 beats 0 -> 1/3; 6.0 beats all -> 1
    assert cells["AUC"] == pytest.approx((2 / 3 + 1 / 3 + 1) / 3)
    # decisions: top ceil(0.25 * 4) = 1 of a (d1), top 1 of b (d6): [1,0,0,0,0,1] vs
    # truth [1,0,1,0,0,1]: p_obs 5/6, p_exp (4/6)(3/6) + (2/6)(3/6) = 1/2 -> kappa 2/3
    assert cells["kappa"] == pytest.approx((5 / 6 - 0.5) / 0.5)
    nd_a = (2 + 2 / math.log2(4)) / (2 + 2 / math.log2(3))
    assert cells["nDCG@10"] == pytest.approx((nd_a + 1.0) / 2)
    auc_ids = values.filter(pl.col("column") == "AUC")["query_id"].to_list()
    assert auc_ids == ["a|d1", "a|d3", "b|d6"]  # per positive pair, mean = AUC
    assert values.filter(pl.col("column") == "AUC")["value"].mean() == pytest.approx(cells["AUC"])


def test_run_scores_fill_unretrieved_below_the_query_floor() -> None:
    frame = pl.DataFrame({"query_id": ["a", "a", "c"], "doc_id": ["d1", "d3", "d9"]})
    run = pl.DataFrame(
        {"query_id": ["a", "a"], "doc_id": ["d1", "d2"], "score": [5.0, 3.0], "rank": [1, 2]}
    )
    got = run_scores(frame, run, "run:x")["run:x"].to_list()
    assert got == [5.0, pytest.approx(2.999), -1e9]


def test_fit_logistic_meets_its_optimality_condition() -> None:
    # x = -1 (y 0), +1 (y 1), l2 = 1: by symmetry b = 0 and w = 2 sigmoid(-w)
    w = fit_logistic(np.array([[-1.0], [1.0]]), np.array([0, 1]))
    assert w[0] == pytest.approx(0.0, abs=1e-9)
    assert w[1] == pytest.approx(2 / (1 + math.exp(w[1])), abs=1e-9)


def test_cross_fitting_never_sees_a_query_own_labels() -> None:
    rng = np.random.default_rng(0)
    n = 40
    frame = pl.DataFrame(
        {
            "query_id": [f"q{i // 4}" for i in range(n)],
            "doc_id": [f"d{i}" for i in range(n)],
            "truth": rng.integers(0, 3, n),
            "f": rng.normal(size=n),
        }
    )
    base = cross_fitted(frame, ["f"], min_rel=2, folds=2, seed=1)
    flipped = frame.with_columns(
        pl.when(pl.col("query_id") == "q0").then(3).otherwise("truth").alias("truth")
    )
    again = cross_fitted(flipped, ["f"], min_rel=2, folds=2, seed=1)
    q0 = (frame["query_id"] == "q0").to_numpy()
    np.testing.assert_allclose(again[q0], base[q0])  # q0's own labels never fit q0's model
    assert np.abs(again[~q0] - base[~q0]).max() > 1e-3  # but they fit the other fold's


def test_truth_prefers_world_grades_then_human() -> None:
    q = pl.DataFrame(
        {
            "query_id": ["a", "a", "a"],
            "doc_id": ["d1", "d1", "d2"],
            "relevance": [1, 3, 2],
            "source": ["world", "world", "human"],
        }
    )
    truth, source = truth_qrels(q)
    assert source == "world" and truth["truth"].to_list() == [3]
    truth, source = truth_qrels(q.filter(pl.col("source") == "human"))
    assert source == "human" and truth.height == 1
    with pytest.raises(ValueError, match="no ground truth"):
        truth_qrels(q.filter(pl.col("source") == "llm"))


def test_bench_table_rows_and_calibrated_row() -> None:
    frame = FRAME.with_columns(pl.col("j").alias("run:bm25"), (-pl.col("j")).alias("k"))
    bench = JudgeBenchParams(judges=["relevance"], calibrate="j", quantile=0.25)
    frame = frame.with_columns(pl.col("k").alias("relevance"))
    table = bench_table(frame, bench, 2, "toy", "world")
    assert table.rows == ["relevance", "run:bm25", "calibrated"]
    assert table.cells["run:bm25"]["AUC"] == pytest.approx((2 / 3 + 1 / 3 + 1) / 3)
    assert table.cells["relevance"]["AUC"] == pytest.approx(1 - (2 / 3 + 1 / 3 + 1) / 3)
    assert set(table.per_query["row"].unique()) == {"relevance", "run:bm25", "calibrated"}


def _bench_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "query_id": ["a", "a", "b"],
            "doc_id": ["d1", "d2", "d3"],
            "query": ["river in hamburg", "river in hamburg", "capital of france"],
            "doc": ["The Elbe flows through Hamburg.", "Paris is large.", "Paris is the capital."],
            "truth": [2, 0, 2],
        }
    )


def test_seeded_annotate_rows_are_reused_not_recomputed(tmp_path) -> None:
    """Labels that annotate's judge already wrote cost the bench no call (same keys), with the
    same scores; a judge annotate did not run still asks the model; error rows and the store's
    own rows are never copied over."""
    from trustir.annotate.judge_bench import judge_scores, seed_store
    from trustir.annotate.params import AnnotateParams
    from trustir.annotate.relevance_labels import judge_with_params
    from trustir.llm.config import LLMParams
    from trustir.llm.testing import build_tiny_model

    llm = LLMParams(model=str(build_tiny_model(tmp_path / "tiny")), device="cpu")
    first = AnnotateParams(store=str(tmp_path / "annotate.sqlite"))
    assert first.judge == "query-likelihood"
    frame = _bench_frame()
    annotated, _ = judge_with_params(frame, first, llm, "annotate", show_progress=False)
    error = annotated.head(1).with_columns(
        pl.lit("error").alias("status"), pl.lit("k-error").alias("key"), pl.lit(None).alias("score")
    )
    bench_store = first.model_copy(update={"store": str(tmp_path / "bench.sqlite")})
    assert seed_store(bench_store, pl.concat([annotated, error], how="vertical_relaxed")) == 3
    assert seed_store(bench_store, annotated) == 0  # present already: nothing overwritten
    bench = JudgeBenchParams(judges=["query-likelihood", "relevance"], calibrate=None)
    scored, costs = judge_scores(frame, bench, bench_store, llm, show_progress=False)
    assert costs["query-likelihood"]["llm_calls"] == 0
    assert costs["query-likelihood"]["cache_hits"] == 3
    assert scored["query-likelihood"].to_list() == annotated["score"].to_list()
    assert costs["relevance"]["llm_calls"] > 0 and costs["relevance"]["cache_hits"] == 0

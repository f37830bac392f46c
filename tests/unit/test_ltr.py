"""P8 supervision and plumbing: FAMOL with w = 1 / w = 0 equals click-only / LLM-only, the two
schedule orders, frequency buckets and FAMOL's weight, features by hand, the LLM-label plan,
paired bootstrap intervals, and the params section."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from trustir.config import ParamsError
from trustir.params import parse_params
from trustir.ranking.buckets import bucket_edges, famol_weight, frequency_buckets
from trustir.ranking.features import FEATURES, FeatureSources, build_features, feature_names
from trustir.ranking.labels import plan_queries
from trustir.ranking.params import (
    BucketParams,
    LightGBMParams,
    LlmLabelParams,
    LtrParams,
    MLPParams,
)
from trustir.ranking.rankers.lambdamart import LambdaMART
from trustir.ranking.rankers.mlp import MLPRanker
from trustir.ranking.report import paired_bootstrap
from trustir.ranking.supervision import (
    SUPERVISIONS,
    LabelledSet,
    NoTrainingData,
    build_phases,
    labelled_set,
    train_ranker,
)


def labelled(name: str, queries: range, seed: int, size: int = 6) -> LabelledSet:
    rng = np.random.default_rng(seed)
    n = len(queries) * size
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, 4, n)
    return LabelledSet(name, [f"q{i:02d}" for i in queries], X, y, np.full(len(queries), size))


CLICK, LLM = labelled("click", range(0, 20), 1), labelled("llm", range(10, 30), 2)
FACTORIES = {
    "lambdamart": lambda: LambdaMART(LightGBMParams(n_estimators=15)),
    "mlp": lambda: MLPRanker(MLPParams(epochs=4, hidden=[8]), "listnet"),
}


def scores(sup: str, weight: float, factory) -> np.ndarray:
    phases = build_phases(sup, CLICK, LLM, lambda q: weight, 0.5)
    return train_ranker(factory, phases).score(np.vstack([CLICK.X, LLM.X]))


@pytest.mark.parametrize("ranker", ["lambdamart", "mlp"])
def test_famol_with_w_1_equals_click_only_and_w_0_llm_only(ranker):
    factory = FACTORIES[ranker]
    np.testing.assert_array_equal(scores("famol", 1.0, factory), scores("click", 0.5, factory))
    np.testing.assert_array_equal(scores("famol", 0.0, factory), scores("llm", 0.5, factory))
    mixed = scores("famol", 0.5, factory)
    assert not np.array_equal(mixed, scores("click", 0.5, factory))


def test_famol_weights_each_querys_lists():
    (phase,) = build_phases("famol", CLICK, LLM, lambda q: 0.25 if q < "q15" else 1.0, 0.5)
    # click lists weigh w (0.25 for q00-q14, 1 for q15-q19); LLM lists 1 - w (q10-q14 0.75,
    # q15-q29 0: dropped)
    per_group = phase.weights[np.cumsum(phase.groups) - 1]
    assert per_group.tolist() == [0.25] * 15 + [1.0] * 5 + [0.75] * 5
    assert phase.X.shape[0] == 25 * 6 and phase.budget == 1.0


@pytest.mark.parametrize("ranker", ["lambdamart", "mlp"])
def test_schedules_train_the_sources_in_their_order(ranker):
    factory = FACTORIES[ranker]
    first, second = build_phases("click_then_llm", CLICK, LLM, lambda q: 0.5, 0.3)
    assert (first.name, first.budget, second.name) == ("click", 0.3, "llm")
    assert second.budget == pytest.approx(0.7)
    assert [p.name for p in build_phases("llm_then_click", CLICK, LLM, lambda q: 0.5, 0.3)] == [
        "llm",
        "click",
    ]
    by_hand = factory()
    by_hand.fit(CLICK.X, CLICK.y, CLICK.groups, np.ones(len(CLICK.y)), budget=0.5)
    by_hand.fit(LLM.X, LLM.y, LLM.groups, np.ones(len(LLM.y)), budget=0.5, warm_start=True)
    X = np.vstack([CLICK.X, LLM.X])
    np.testing.assert_array_equal(scores("click_then_llm", 0.5, factory), by_hand.score(X))
    assert not np.array_equal(
        scores("click_then_llm", 0.5, factory), scores("llm_then_click", 0.5, factory)
    )


def test_a_supervision_without_its_source_says_so():
    empty = LabelledSet("llm", [], np.zeros((0, 3)), np.zeros(0, int), np.zeros(0, int))
    for name in ("llm", "click_then_llm", "llm_then_click", "famol"):
        with pytest.raises(NoTrainingData, match="no usable training query with llm labels"):
            build_phases(name, CLICK, empty, lambda q: 0.5, 0.5)
    assert len(build_phases("click", CLICK, empty, lambda q: 0.5, 0.5)) == 1
    assert set(SUPERVISIONS.names()) == set(LtrParams().supervisions)


def test_labelled_set_keeps_lists_with_two_grades():
    feats = pl.DataFrame(
        {
            "query_id": ["a", "a", "b", "b", "c"],
            "doc_id": ["1", "2", "1", "2", "1"],
            "f": [1.0, 2, 3, 4, 5],
        }
    )
    labels = pl.DataFrame(
        {
            "query_id": ["a", "a", "b", "b", "c", "a"],
            "doc_id": ["2", "1", "1", "2", "1", "9"],
            "relevance": [0, 2, 1, 1, 3, 1],
        }
    )
    s = labelled_set("x", feats, labels, ["f"])
    # b has one grade, c one document, (a, 9) no features
    assert s.query_ids == ["a"] and s.groups.tolist() == [2]
    assert s.X[:, 0].tolist() == [1.0, 2.0] and s.y.tolist() == [2, 0]


# -- buckets ------------------------------------------------------------------------------------
def test_frequency_buckets_and_famol_weight():
    freqs = pl.DataFrame(
        {"query_id": [f"q{i}" for i in range(10)], "freq": [100, 50, 40, 30, 20, 10, 5, 4, 3, 3]}
    )
    b = frequency_buckets(freqs, BucketParams(high=0.2, medium=0.3))
    assert b["bucket"].to_list() == ["high"] * 2 + ["medium"] * 3 + ["low"] * 5
    assert b["query_id"].to_list()[-2:] == ["q8", "q9"]  # ties by id
    edges = bucket_edges(b)
    assert edges == (20.0, 50.0)
    assert famol_weight(3, edges, 0.1, 0.9) == 0.1 and famol_weight(100, edges, 0.1, 0.9) == 0.9
    mid = math.exp((math.log(20) + math.log(50)) / 2)
    assert famol_weight(mid, edges, 0.1, 0.9) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no frequency"):
        frequency_buckets(
            freqs.with_columns(pl.lit(None, dtype=pl.Int64).alias("freq")), BucketParams()
        )


# -- features -----------------------------------------------------------------------------------
def test_features_by_hand():
    corpus = pl.DataFrame(
        {
            "doc_id": ["d1", "d2"],
            "title": ["Ada Lovelace facts", "News"],
            "text": ["Ada Lovelace was born in London.", "A market opened."],
            "domain": ["good.org", "unknown.com"],
        }
    )
    queries = pl.DataFrame({"query_id": ["q1"], "text": ["where was Ada Lovelace born"]})
    run = pl.DataFrame({"query_id": ["q1"], "doc_id": ["d1"], "score": [7.5], "rank": [2]})
    history = pl.DataFrame(
        {"query_id": ["q1"] * 3, "doc_id": ["d1"] * 3, "clicked": [True, False, True]}
    )
    src = FeatureSources(
        corpus=corpus,
        queries=queries,
        frequencies=pl.DataFrame({"query_id": ["q1"], "freq": [9]}),
        runs={"bm25": run},
        domains=pl.DataFrame(
            {"domain": ["good.org", "x.org"], "pagerank": [0.1, 0.001], "level": [5, 1]}
        ),
        entities=pl.DataFrame({"name": ["Ada Lovelace", "Ada"], "popularity": [0.01, 0.5]}),
        click_history=history,
    )
    f = build_features(pl.DataFrame({"query_id": ["q1", "q1"], "doc_id": ["d1", "d2"]}), src)
    assert f.columns == ["query_id", "doc_id", *FEATURES]
    d1, d2 = f.row(0, named=True), f.row(1, named=True)
    # query words: ada, lovelace, born ("where", "was" are stopwords)
    assert d1["overlap_title"] == pytest.approx(2 / 3) and d1["overlap_text"] == 1.0
    assert d1["query_len"] == 3 and d1["doc_len"] == pytest.approx(math.log1p(3 + 4))
    assert (d1["bm25"], d1["bm25_rr"]) == (7.5, 0.5)
    assert (d2["bm25"], d2["bm25_rr"]) == (7.5, 0.0)  # not retrieved: the query's floor
    assert (d1["dense"], d1["dense_rr"]) == (0.0, 0.0)  # no dense run
    assert d1["pagerank"] == pytest.approx(-1.0) and d1["authority"] == 5.0
    assert d2["authority"] == 3.0 and d2["pagerank"] == pytest.approx(-2.0)  # unknown: median
    assert d1["entity_pop"] == pytest.approx(math.log10(0.5))  # "Ada" alone is the most popular
    assert d2["entity_pop"] == 0.0
    assert d1["click_ctr"] == pytest.approx((2 + 1) / (3 + 4))
    assert d2["click_ctr"] == pytest.approx(1 / 4) and d2["click_impressions"] == 0.0
    assert d1["query_freq"] == pytest.approx(math.log(10))
    assert "click_ctr" not in feature_names(click_features=False)


# -- LLM labels plan, bootstrap, params -----------------------------------------------------------
def test_plan_counts_labelled_queries_per_bucket():
    queries = pl.DataFrame(
        {"query_id": [f"q{i}" for i in range(12)], "split": ["train"] * 11 + ["test"]}
    )
    buckets = pl.DataFrame(
        {
            "query_id": [f"q{i}" for i in range(12)],
            "bucket": ["high"] * 4 + ["medium"] * 4 + ["low"] * 4,
        }
    )
    llm = pl.DataFrame({"query_id": ["q0", "q1", "q2", "q4"]})
    plan = plan_queries(queries, buckets, llm, LlmLabelParams(queries_per_bucket=3, seed=1))
    assert plan["high"] == []  # already 3 labelled
    assert len(plan["medium"]) == 2 and set(plan["medium"]) <= {"q5", "q6", "q7"}
    assert len(plan["low"]) == 3 and "q11" not in plan["low"]  # q11 is a test query
    again = plan_queries(queries, buckets, llm, LlmLabelParams(queries_per_bucket=3, seed=1))
    assert again == plan


def test_paired_bootstrap():
    m, lo, hi = paired_bootstrap(np.array([0.5, 0.7, 0.9]), np.array([0.4, 0.6, 0.8]), 200, 0)
    assert (m, lo, hi) == pytest.approx((0.1, 0.1, 0.1))
    m, lo, hi = paired_bootstrap(np.array([1.0, 0.0] * 20), np.zeros(40), 500, 0)
    assert m == 0.5 and lo < 0.5 < hi


def test_ltr_params_reject_unknown_names():
    with pytest.raises(ParamsError, match="ltr.rankers"):
        parse_params({"ltr": {"rankers": ["xgboost"]}})
    with pytest.raises(ParamsError, match="click_model 'dbn' is not fitted"):
        parse_params({"ltr": {"click_model": "dbn"}})
    with pytest.raises(ParamsError, match="attractiveness needs 4 probabilities"):
        parse_params({"ltr": {"log": {"attractiveness": [0.1, 0.2]}}})

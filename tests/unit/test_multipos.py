"""P3 orchestration on tiny tables and a tiny BERT built from a config: training queries, regime
-> phases -> two training steps -> scores on the eval subset; the multipos table and its pivot."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from trustir.io.stable import round_values, stable_numbers
from trustir.params import Params, parse_params
from trustir.retrieval.multipos import (
    BASELINE_ROW,
    Scores,
    baseline_scores,
    eval_set,
    label_qrels,
    load_variant,
    params_eval_set,
    regime_phases,
    save_variant,
    train_variant,
    training_queries,
    variant_train_params,
)
from trustir.retrieval.multipos_report import multipos_table, pivot_table, report_markdown

WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
]
N_DOCS = 24
CORPUS = pl.DataFrame(
    {
        "doc_id": [f"d{i:02d}" for i in range(N_DOCS)],
        "title": [WORDS[i % len(WORDS)] for i in range(N_DOCS)],
        "text": [f"{WORDS[(3 * i) % len(WORDS)]} fact number {i}" for i in range(N_DOCS)],
    }
)
# q1-q6 train, t1-t4 test
QUERIES = pl.DataFrame(
    {
        "query_id": [f"q{i}" for i in range(1, 7)] + [f"t{i}" for i in range(1, 5)],
        "text": [f"{WORDS[i]} {WORDS[i + 1]}" for i in range(10)],
        "split": ["train"] * 6 + ["test"] * 4,
    }
)


def qrel(q: str, d: int, rel: int, source: str) -> tuple[str, str, int, str]:
    return (q, f"d{d:02d}", rel, source)


FETCHED = pl.DataFrame(
    # human: one positive per train query (q6 has none); world: graded test truth
    [qrel(f"q{i}", i, 3, "human") for i in range(1, 6)]
    + [qrel("t1", 10, 3, "world"), qrel("t1", 11, 1, "world"), qrel("t2", 12, 2, "world")]
    + [qrel("t3", 13, 3, "world"), qrel("t3", 14, 3, "world"), qrel("t4", 15, 1, "world")],
    schema=["query_id", "doc_id", "relevance", "source"],
    orient="row",
)
LLM = pl.DataFrame(
    # LLM: several positives for q1, q2, q4, q6; q3 only a non-positive; q5 unjudged
    [qrel("q1", 1, 2, "llm:m"), qrel("q1", 7, 2, "llm:m"), qrel("q1", 8, 0, "llm:m")]
    + [qrel("q2", 2, 2, "llm:m"), qrel("q2", 9, 2, "llm:m"), qrel("q3", 3, 1, "llm:m")]
    + [qrel("q4", 16, 2, "llm:m"), qrel("q6", 17, 2, "llm:m")],
    schema=["query_id", "doc_id", "relevance", "source"],
    orient="row",
)
BM25 = pl.DataFrame(
    {
        "query_id": [q for q in QUERIES["query_id"] for _ in range(3)],
        "doc_id": [f"d{(7 * i + j) % N_DOCS:02d}" for i in range(10) for j in range(3)],
        "score": [3.0 - j for _ in range(10) for j in range(3)],
        "rank": [j + 1 for _ in range(10) for j in range(3)],
        "run": "bm25",
    }
)


def make_params(model: str = "minilm", **multipos: object) -> Params:
    train = {"model": model, "batch_size": 2, "max_length": 24, "lr": 1e-3, "device": "cpu"}
    mp = {"train": train, "max_train_queries": None, "eval_max_queries": None, "skip_top": 0}
    mp.update({"eval_max_docs": None, **multipos})
    return parse_params(
        {
            "multipos": mp,
            "index": {"depth": 10, "dense": {"model": model, "batch_size": 8, "device": "cpu"}},
        }
    )


def tables() -> dict[str, pl.DataFrame]:
    return {
        "corpus": CORPUS,
        "queries": QUERIES,
        "qrels": FETCHED,
        "llm_qrels": LLM,
        "bm25_run": BM25,
    }


# -- training data ------------------------------------------------------------------------------
def test_same_queries_are_those_with_both_human_and_llm_positives() -> None:
    labels = label_qrels(FETCHED, LLM)
    mp = make_params().multipos
    assert training_queries(QUERIES, labels, mp, 2)["query_id"].to_list() == ["q1", "q2", "q4"]
    every = mp.model_copy(update={"same_queries": False})
    assert training_queries(QUERIES, labels, every, 2).height == 6
    no_llm_positive = label_qrels(FETCHED, LLM.with_columns(pl.lit(1).alias("relevance")))
    with pytest.raises(ValueError, match="no llm:m positive"):
        training_queries(QUERIES, no_llm_positive, mp, 2)
    capped = mp.model_copy(update={"max_train_queries": 2})
    first = training_queries(QUERIES, labels, capped, 2)["query_id"].to_list()
    assert len(first) == 2 and set(first) < {"q1", "q2", "q4"}


def test_regimes_give_phases_with_their_labels_and_bm25_negatives() -> None:
    labels = label_qrels(FETCHED, LLM)
    mp = make_params().multipos

    def phases(regime: str):
        return regime_phases(regime, QUERIES, labels, BM25, mp, min_rel=2)

    (human,) = phases("human")
    assert [(q.query_id, q.positives) for q in human.queries] == [
        ("q1", [("d01", 3)]),
        ("q2", [("d02", 3)]),
        ("q4", [("d04", 3)]),
    ]
    (llm,) = phases("llm")
    assert llm.queries[0].positives == [("d01", 2), ("d07", 2)]
    for q in llm.queries:  # one BM25 negative, never a positive of the query
        assert len(q.negatives) == 1 and q.negatives[0] not in dict(q.positives)
    first, second = phases("curriculum")
    assert (first.name, second.name) == ("llm", "human")
    (mixed,) = phases("mixed")
    assert len(mixed.queries) == 3


def test_variant_params_take_the_loss_and_its_options() -> None:
    mp = make_params().multipos
    tp = variant_train_params(mp, "lsepair")
    assert tp.loss == "lsepair" and tp.loss_options == {"negatives": "all", "positives": "all"}
    assert variant_train_params(mp, "summarglh").loss_options == {}
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        parse_params({"multipos": {"losses": ["nope"]}})
    with pytest.raises(ValueError, match="multipos.regimes: unknown label regime 'crowd'"):
        parse_params({"multipos": {"regimes": ["crowd"]}})


# -- evaluation subset ----------------------------------------------------------------------------
def test_eval_set_keeps_relevant_docs_fills_by_seed_and_restricts_qrels() -> None:
    full = eval_set(CORPUS, QUERIES, FETCHED, None, None, 0, 2)
    assert full.corpus.height == N_DOCS and full.queries["query_id"].to_list() == [
        "t1",
        "t2",
        "t3",
        "t4",
    ]
    ev = eval_set(CORPUS, QUERIES, FETCHED, 3, 6, 0, 2)
    assert ev.queries.height <= 3
    kept = set(ev.corpus["doc_id"])
    relevant = set(ev.qrels.filter(pl.col("relevance") >= 2)["doc_id"])
    assert len(kept) == 6 or relevant == kept
    assert set(ev.qrels["doc_id"]) <= kept and set(ev.qrels["query_id"]) <= set(
        ev.queries["query_id"]
    )
    # every relevant document of a kept query is searched
    truth = FETCHED.filter(pl.col("query_id").is_in(ev.queries["query_id"].to_list()))
    assert set(truth.filter(pl.col("relevance") >= 2)["doc_id"]) <= kept
    again = eval_set(CORPUS, QUERIES, FETCHED, 3, 6, 0, 2)  # seeded
    assert again.corpus.equals(ev.corpus) and again.qrels.equals(ev.qrels)
    assert set(ev.qrels["source"]) == {"world"}  # ground truth only
    pooled = eval_set(CORPUS, QUERIES, FETCHED, None, 1, 0, 2, BM25, 2)  # max_docs below the pool
    top2 = BM25.filter(pl.col("query_id").str.starts_with("t") & (pl.col("rank") <= 2))
    relevant = FETCHED.filter(pl.col("query_id").str.starts_with("t") & (pl.col("relevance") >= 2))
    assert set(pooled.corpus["doc_id"]) == set(top2["doc_id"]) | set(relevant["doc_id"])


# -- one variant end to end -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("loss", "regime", "steps"),
    [("lsepair", "llm", 2), ("infonce", "curriculum", 4)],  # 3 queries, batch 2; 2 phases
)
def test_train_variant_saves_a_model_and_scores_it(
    tiny_model: str, tmp_path: Path, loss: str, regime: str, steps: int
) -> None:
    params = make_params(tiny_model)
    scores = train_variant(loss, regime, tables(), params, tmp_path, show_progress=False)
    assert (tmp_path / "model" / "model.safetensors").exists()
    assert set(scores.measures) == {"nDCG@10", "R@100", "RR@10"}
    assert all(0.0 <= v <= 1.0 for v in scores.measures.values())
    assert set(scores.per_query["measure"]) == set(scores.measures)
    assert scores.per_query["query_id"].n_unique() == 4
    assert scores.run is not None and set(scores.run["run"]) == {f"{loss}-{regime}"}
    assert scores.info["steps"] == steps and scores.info["eval"] == {"queries": 4, "documents": 24}
    save_variant(scores, tmp_path)
    back = load_variant(tmp_path)
    # written at the precision trustir.io.stable states (6 significant digits)
    assert back.measures == stable_numbers(scores.measures)
    assert back.per_query.equals(round_values(scores.per_query))
    assert back.measures == pytest.approx(scores.measures, rel=1e-5)
    assert json.loads((tmp_path / "metrics.json").read_text())["loss"] == loss
    assert (tmp_path / "run.parquet").exists()


def test_baseline_is_the_untrained_model_on_the_same_subset(tiny_model: str) -> None:
    params = make_params(tiny_model, eval_max_docs=8)
    ev = params_eval_set(params, CORPUS, QUERIES, FETCHED, BM25)
    base = baseline_scores(params, ev)
    assert base.run is not None and set(base.run["doc_id"]) <= set(ev.corpus["doc_id"])
    assert set(base.run["query_id"]) == set(ev.queries["query_id"])


# -- the tables -----------------------------------------------------------------------------------
def fake_scores(ndcg: float) -> Scores:
    pq = pl.DataFrame(
        {
            "query_id": ["t1", "t2"] * 3,
            "measure": ["nDCG@10"] * 2 + ["R@100"] * 2 + ["RR@10"] * 2,
            "value": [ndcg, ndcg, 1.0, 1.0, 0.5, 0.5],
        }
    )
    info = {"steps": 3, "phases": [{"name": "x", "queries": 5, "epochs": 1}]}
    return Scores({"nDCG@10": ndcg, "R@100": 1.0, "RR@10": 0.5}, pq, None, info)


def test_table_rows_per_query_and_pivot(tmp_path: Path) -> None:
    params = make_params(losses=["infonce", "lsepair"], regimes=["human", "llm"])
    variants = {
        ("infonce", "human"): fake_scores(0.4),
        ("infonce", "llm"): fake_scores(0.3),
        ("lsepair", "human"): fake_scores(0.5),
        ("lsepair", "llm"): fake_scores(0.45),
    }
    ev = eval_set(CORPUS, QUERIES, FETCHED, None, 10, 0, 2)
    table = multipos_table(variants, fake_scores(0.42), ev, params)
    assert table.rows == ["infonce/human", "infonce/llm", "lsepair/human", "lsepair/llm"] + [
        BASELINE_ROW
    ]
    assert table.columns == ["nDCG@10", "R@100", "RR@10"]
    assert table.per_query is not None and table.per_query.height == 5 * 6
    assert set(table.per_query.columns) == {"row", "column", "query_id", "value"}
    assert "3 steps on 5 train queries" in " ".join(table.notes)
    pivot = pivot_table(table, ["infonce", "lsepair"], ["human", "llm"], "nDCG@10")
    assert pivot.cells == {
        "infonce": {"human": 0.4, "llm": 0.3},
        "lsepair": {"human": 0.5, "llm": 0.45},
        BASELINE_ROW: {"human": 0.42, "llm": 0.42},
    }
    md = report_markdown(table, pivot, "nDCG@10")
    assert md.index("| lsepair | **0.5000** | **0.4500** |") < md.index("| infonce/human |")
    # each variant against the untrained model: delta and paired p-values over the 2 queries
    assert "## nDCG@10 against 'untrained', paired over queries" in md
    assert "| infonce/human | -0.0200 |" in md
    assert md.count("<sub>revision") == 1
    table.save(tmp_path / "metrics", tmp_path / "data")
    saved = json.loads((tmp_path / "metrics" / "multipos.json").read_text())
    assert set(saved) == set(table.rows) and saved["lsepair/llm"]["nDCG@10"] == 0.45

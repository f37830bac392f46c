"""ir_measures wrapper: hand-worked values, the min_rel threshold, unjudged and missing queries."""

import ast
import math
from pathlib import Path

import polars as pl
import pytest

from trustir.evaluate.measures import (
    evaluate_run,
    evaluation_qrels,
    min_rel_for,
    parse_measures,
)
from trustir.params import parse_params
from trustir.retrieval.runs import rank_run

QRELS = pl.DataFrame(
    {
        "query_id": ["q1", "q1", "q2", "q3"],
        "doc_id": ["d1", "d2", "d3", "d9"],
        "relevance": [2, 1, 1, 1],
        "source": ["world"] * 4,
    }
)
RUN = rank_run(
    pl.DataFrame(
        {
            "query_id": ["q1", "q1", "q1", "q2", "q2"],
            "doc_id": ["d2", "d1", "d4", "d5", "d3"],
            "score": [3.0, 2.0, 1.0, 2.0, 1.0],
        }
    ),
    "toy",
)


def test_hand_worked_values_min_rel_1():
    agg, per_query = evaluate_run(RUN, QRELS, ["nDCG@10", "RR@10", "R@100"], min_rel=1)
    pq = {(r["query_id"], r["measure"]): r["value"] for r in per_query.iter_rows(named=True)}
    # q1: DCG = 1/log2(2) + 2/log2(3); IDCG = 2/log2(2) + 1/log2(3)
    ndcg_q1 = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert pq[("q1", "nDCG@10")] == pytest.approx(ndcg_q1)
    assert pq[("q2", "nDCG@10")] == pytest.approx(1 / math.log2(3))
    assert pq[("q1", "RR@10")] == 1.0 and pq[("q2", "RR@10")] == 0.5
    # q3 is judged but absent from the run: it counts as 0, not as missing
    assert pq[("q3", "RR@10")] == 0.0 and pq[("q3", "nDCG@10")] == 0.0
    assert agg["RR@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert agg["R@100"] == pytest.approx(2 / 3)
    assert agg["nDCG@10"] == pytest.approx((ndcg_q1 + 1 / math.log2(3)) / 3)


def test_min_rel_raises_the_binary_threshold():
    agg, per_query = evaluate_run(RUN, QRELS, ["RR@10", "nDCG@10"], min_rel=2)
    pq = {(r["query_id"], r["measure"]): r["value"] for r in per_query.iter_rows(named=True)}
    assert pq[("q1", "RR@10")] == 0.5  # d2 (grade 1) no longer counts; d1 at rank 2 does
    assert pq[("q2", "RR@10")] == 0.0
    # nDCG keeps graded gains whatever the threshold
    assert pq[("q1", "nDCG@10")] == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_explicit_rel_in_measure_name_is_kept():
    m = parse_measures(["RR(rel=3)@10", "R@100"], min_rel=2)
    assert m["RR(rel=3)@10"].params["rel"] == 3
    assert m["R@100"].params["rel"] == 2


def test_bad_measure_name_is_a_clear_error():
    with pytest.raises(ValueError, match="nDGC@10"):
        parse_measures(["nDGC@10"], 1)


def test_evaluation_qrels_keep_test_queries_and_ground_truth_only():
    queries = pl.DataFrame({"query_id": ["q1", "q2"], "split": ["test", "train"]})
    qrels = pl.DataFrame(
        {
            "query_id": ["q1", "q1", "q2"],
            "doc_id": ["a", "b", "c"],
            "relevance": [1, 1, 1],
            "source": ["world", "llm:smol", "human"],
        }
    )
    out = evaluation_qrels(qrels, queries)
    assert out.rows() == [("q1", "a", 1, "world")]


def test_rank_run_breaks_ties_by_doc_id():
    run = rank_run(
        pl.DataFrame(
            {"query_id": ["q", "q", "q"], "doc_id": ["b", "a", "c"], "score": [1.0, 1.0, 2.0]}
        ),
        "x",
    )
    assert run["doc_id"].to_list() == ["c", "a", "b"]
    assert run["rank"].to_list() == [1, 2, 3]


@pytest.mark.parametrize(
    ("min_rel", "source", "expected"),
    [(0, "world", 0), (0, "beir", 0), (3, "local", 3), (None, "world", 2), (None, "beir", 1)],
)
def test_min_rel_for_honours_a_set_threshold_zero_included(min_rel, source, expected):
    params = parse_params({"data": {"source": source}, "evaluate": {"min_rel": min_rel}})
    assert min_rel_for(params.evaluate, params.data.source) == expected


def test_min_rel_zero_counts_every_judged_document_as_relevant():
    # with min_rel 0 a grade-0 judgment is a hit: RR@10 of q1 becomes 1 (d3, grade 0, at rank 1)
    run = pl.DataFrame({"query_id": ["q1", "q1"], "doc_id": ["d3", "d1"], "score": [2.0, 1.0]})
    qrels = pl.DataFrame({"query_id": ["q1", "q1"], "doc_id": ["d1", "d3"], "relevance": [2, 0]})
    params = parse_params({"evaluate": {"min_rel": 0}})
    agg, _ = evaluate_run(run, qrels, ["RR@10"], min_rel_for(params.evaluate, "world"))
    assert agg["RR@10"] == 1.0
    agg, _ = evaluate_run(run, qrels, ["RR@10"], min_rel_for(parse_params({}).evaluate, "world"))
    assert agg["RR@10"] == 0.5


def test_no_code_reads_evaluate_min_rel_but_min_rel_for():
    """``evaluate.min_rel`` is read in one place, so ``0`` cannot again mean "unset" somewhere
    (``stages/annotate.py`` had ``min_rel or default``)."""
    repo = Path(__file__).resolve().parents[2]
    readers = []
    for f in [*(repo / "src/trustir").rglob("*.py"), *(repo / "stages").glob("*.py")]:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "min_rel":
                inner = node.value
                if isinstance(inner, ast.Attribute) and inner.attr == "evaluate":
                    readers.append(f"{f.relative_to(repo)}:{node.lineno}")
    assert readers == []

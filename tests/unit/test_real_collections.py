"""Real BEIR-layout collections that are not the mini-world (issue 19): other grade scales,
documents with empty text, unjudged queries. Each case reads a hand-made folder in
tests/fixtures/beir_cases/."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

from trustir.evaluate.measures import evaluate_run
from trustir.evaluate.params import EvaluateParams
from trustir.io.beir import BeirFormatError, read_beir, read_qrels_tsv
from trustir.report.retrieval import retrieval_table
from trustir.retrieval.bm25 import document_texts
from trustir.sources.empty import EmptyDocumentsError, handle_empty_documents
from trustir.validate import WORLD_GRADES, ValidationFailed, grade_scale, validate_tables

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "beir_cases"


def grades_of(folder: str) -> dict[str, int]:
    return grade_scale(read_beir(CASES / folder)["qrels"])["human"]["grades"]


@pytest.mark.parametrize(
    ("folder", "low", "high"),
    [("grades_touche", -2, 2), ("grades_1_4", 1, 4), ("grades_0_4", 0, 4), ("grades_0_2", 0, 2)],
)
def test_other_grade_scales_validate_and_their_scale_is_reported(
    folder: str, low: int, high: int
) -> None:
    tables = read_beir(CASES / folder)
    report = validate_tables(tables)  # raises on any failed rule
    assert report["qrels"]["relevance must be an integer"]["success"]
    scale = grade_scale(tables["qrels"])["human"]
    assert (scale["min"], scale["max"]) == (low, high)
    assert scale["rows"] == tables["qrels"].height


def test_touche_scale_counts_each_grade() -> None:
    assert grades_of("grades_touche") == {"-2": 2, "-1": 1, "0": 1, "1": 2, "2": 4}


def test_world_bounds_still_name_grades_outside_zero_to_three() -> None:
    tables = read_beir(CASES / "grades_touche")
    with pytest.raises(ValidationFailed) as info:
        validate_tables(tables, grades=WORLD_GRADES)
    assert str(info.value) == (
        "validation failed: qrels: relevance must be a grade between 0 and 3 — 3 rows fail "
        "(e.g. q1/a8/human (-2), q2/a7/human (-1), q4/a8/human (-2))"
    )


def test_a_non_integer_grade_fails_reading_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2.5\n")
    with pytest.raises(BeirFormatError, match=r"test\.tsv:3: score must be an integer, got '2.5'"):
        read_qrels_tsv(path)


def test_a_float_grade_column_fails_the_integer_rule() -> None:
    tables = read_beir(CASES / "grades_0_2")
    tables["qrels"] = tables["qrels"].with_columns(pl.col("relevance").cast(pl.Float64))
    with pytest.raises(ValidationFailed, match="qrels: relevance must be an integer"):
        validate_tables(tables)


def test_negative_grades_gain_nothing_in_ndcg_and_min_rel_sets_binary_relevance() -> None:
    # q1 of the Touché folder: a1=2, a2=1, a8=-2. Ranking a8, a2, a1:
    # DCG = 0 (a8's -2 counts as gain 0) + 1/log2(3) + 2/log2(4); IDCG = 2 + 1/log2(3).
    qrels = read_beir(CASES / "grades_touche")["qrels"].filter(pl.col("query_id") == "q1")
    run = pl.DataFrame({"query_id": ["q1"] * 3, "doc_id": ["a8", "a2", "a1"], "score": [3.0, 2, 1]})
    agg, _ = evaluate_run(run, qrels, ["nDCG@10", "RR@10", "P@3"], min_rel=2)
    ideal = 2 + 1 / 1.5849625007211563
    assert agg["nDCG@10"] == pytest.approx((1 / 1.5849625007211563 + 1.0) / ideal)
    assert agg["RR@10"] == pytest.approx(1 / 3)  # only a1 (grade 2) is relevant at min_rel 2
    assert agg["P@3"] == pytest.approx(1 / 3)
    agg1, _ = evaluate_run(run, qrels, ["RR@10", "P@3"], min_rel=1)
    assert agg1 == pytest.approx({"RR@10": 1 / 2, "P@3": 2 / 3})  # a2 (grade 1) counts too


def test_a_one_to_four_scale_with_min_rel_one_is_flagged_in_the_report() -> None:
    tables = read_beir(CASES / "grades_1_4")
    run = tables["qrels"].select("query_id", "doc_id").with_columns(score=pl.lit(1.0))
    table = retrieval_table(
        {"bm25.run": run}, tables["qrels"], tables["queries"], EvaluateParams(), "local"
    )
    assert any("lowest grade 1 ≥ 1" in n for n in table.notes)
    table3 = retrieval_table(
        {"bm25.run": run}, tables["qrels"], tables["queries"], EvaluateParams(min_rel=3), "local"
    )
    assert "binary measures count grade ≥ 3." in table3.notes[0]
    assert not any("lowest grade" in n for n in table3.notes)


def test_title_only_documents_are_accepted_and_embedded_as_their_title() -> None:
    corpus = read_beir(CASES / "empty_docs")["corpus"]
    texts = dict(zip(corpus["doc_id"], document_texts(corpus), strict=True))
    assert texts["a3"] == "Nuclear power is safe"  # text ""
    assert texts["a5"] == "Homework helps learning"  # text null
    assert texts["a6"] == "Too much homework"  # no text key
    assert texts["a8"] == "" and texts["a9"] == ""


def test_documents_with_neither_title_nor_text_are_kept_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tables = read_beir(CASES / "empty_docs")
    with caplog.at_level(logging.WARNING):
        kept = handle_empty_documents(tables, "keep", "empty_docs")
    assert kept["corpus"].height == 9
    assert "empty_docs: 2 documents have neither title nor text (e.g. a8, a9); kept" in caplog.text
    validate_tables(kept)  # the validator accepts them


def test_drop_removes_empty_documents_and_their_non_relevant_judgments() -> None:
    tables = read_beir(CASES / "empty_docs")
    dropped = handle_empty_documents(tables, "drop", "empty_docs")
    assert sorted(set(tables["corpus"]["doc_id"]) - set(dropped["corpus"]["doc_id"])) == [
        "a8",
        "a9",
    ]
    assert dropped["qrels"].height == tables["qrels"].height - 1  # q1/a8 (grade 0)
    validate_tables(dropped)  # no qrels row names a dropped document


def test_drop_fails_where_evaluation_would_be_wrong() -> None:
    tables = read_beir(CASES / "empty_docs")
    judged = tables | {
        "qrels": tables["qrels"].with_columns(
            relevance=pl.when(pl.col("doc_id") == "a8").then(2).otherwise("relevance")
        )
    }
    with pytest.raises(
        EmptyDocumentsError,
        match=r"1 relevance judgments name empty documents "
        r"\(e\.g\. q1/a8\)",
    ):
        handle_empty_documents(judged, "drop", "empty_docs")
    empty = tables | {"corpus": tables["corpus"].with_columns(title=pl.lit(""), text=pl.lit(""))}
    with pytest.raises(EmptyDocumentsError, match="all 9 documents have neither title nor text"):
        handle_empty_documents(empty, "keep", "empty_docs")


def test_unjudged_queries_are_dropped_from_evaluation_with_a_count() -> None:
    tables = read_beir(CASES / "unjudged")
    split = dict(tables["queries"].select("query_id", "split").iter_rows())
    # q5 (train qrels only) and q6 (no qrels at all) are not test queries; q4 is judged only 0
    assert split == {
        "q1": "test",
        "q2": "test",
        "q3": "test",
        "q4": "test",
        "q5": "train",
        "q6": "train",
    }
    run = pl.DataFrame(
        {"query_id": ["q1", "q2", "q4"], "doc_id": ["a1", "a4", "a8"], "score": [1.0, 1.0, 1.0]}
    )
    table = retrieval_table(
        {"bm25.run": run},
        tables["qrels"],
        tables["queries"],
        EvaluateParams(measures=["RR@10"]),
        "local",
    )
    assert table.notes[:2] == [
        "3 test queries; binary measures count grade ≥ 1.",
        "1 test queries without a judgment above grade 0 dropped from evaluation.",
    ]
    # q1 found (1), q2 missed (0), q3 not retrieved for (0): the mean over the 3 judged queries
    assert table.cells["bm25"]["RR@10"] == pytest.approx(1 / 3)

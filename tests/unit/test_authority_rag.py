"""P1 RAGAuth and measures: authority filtering of documents (hand-worked), the answers table,
the world's yes/no questions (balanced, conflicting documents, stable prefix), correlations,
pair values and bootstrap intervals."""

from __future__ import annotations

import polars as pl
import pytest

from trustir.authority.metrics import correlations, mean_ci, pair_values, spearman_ci
from trustir.authority.ragauth import (
    CONDITIONS,
    RagAnswer,
    answers_table,
    condition_docs,
    select_docs,
)
from trustir.sources.world import Sizes, build_world
from trustir.sources.world.qa import QA_KINDS, authority_questions, qa_rng
from trustir.sources.world.streams import FACETS


def toy_docs() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "qid": ["q1"] * 4 + ["q2"] * 3,
            "rank": [1, 2, 3, 4, 1, 2, 3],
            "doc_id": ["d1", "d2", "d3", "d4", "d5", "d6", "d7"],
            "domain": ["a.com", "b.com", "c.com", "d.com", "c.com", "e.com", "b.com"],
            "correct": [False, True, True, None, True, False, False],
            "snippet": ["s1", "s2", "s3", "s4", "s5", "s6", "s7"],
        }
    )


def test_select_docs_keeps_the_most_authoritative_best_first():
    auth = {"a.com": 1.0, "b.com": 3.0, "c.com": 2.0, "d.com": None, "e.com": 3.0}
    kept = select_docs(toy_docs(), auth, keep=2)
    assert kept.select("qid", "doc_id", "rank").rows() == [
        ("q1", "d2", 1),  # b.com 3.0
        ("q1", "d3", 2),  # c.com 2.0 (a.com 1.0 and d.com unjudged are dropped)
        ("q2", "d6", 1),  # e.com 3.0 ties b.com 3.0: the earlier retrieval rank wins
        ("q2", "d7", 2),
    ]


def test_conditions_show_all_judged_and_oracle_documents():
    judged = {"a.com": 5.0, "b.com": 1.0, "c.com": 1.0, "d.com": 4.0, "e.com": 2.0}
    oracle = {"a.com": 0.1, "b.com": 0.4, "c.com": 0.3, "d.com": 0.2, "e.com": 0.5}
    shown = condition_docs(toy_docs(), judged, oracle, keep=2)
    assert list(shown) == list(CONDITIONS)
    assert shown["all"].equals(toy_docs().sort("qid", "rank"))
    assert shown["judged"].filter(pl.col("qid") == "q1")["doc_id"].to_list() == ["d1", "d4"]
    assert shown["oracle"].filter(pl.col("qid") == "q1")["doc_id"].to_list() == ["d2", "d3"]


def test_answers_table_reads_p_yes_and_marks_failures():
    questions = pl.DataFrame(
        {"qid": ["q1", "q2"], "question": ["Q1?", "Q2?"], "answers": [["yes"], ["no"]]}
    )
    shown = condition_docs(toy_docs(), {}, {"b.com": 1.0}, keep=2)
    ok = lambda p: {"status": "ok", "score": p}  # noqa: E731
    rows = {"q1|all": ok(0.7), "q1|judged": ok(0.2), "q1|oracle": ok(0.9), "q2|all": ok(0.6),
            "q2|judged": {"status": "error", "score": None}, "q2|oracle": ok(0.1)}  # fmt: skip
    got = answers_table(questions, shown, rows)
    assert got.select("qid", "condition", "predicted", "correct").rows() == [
        ("q1", "all", "yes", 1.0),
        ("q1", "judged", "no", 0.0),
        ("q1", "oracle", "yes", 1.0),
        ("q2", "all", "yes", 0.0),
        ("q2", "judged", None, None),
        ("q2", "oracle", "no", 1.0),
    ]
    assert got.filter(pl.col("condition") == "all")["wrong_docs"].to_list() == [1, 2]


def test_rag_prompt_delimits_documents_and_asks_yes_or_no():
    prompt = RagAnswer().prompt("Is it?", toy_docs().filter(pl.col("qid") == "q1"))
    user = prompt[1]["content"]
    assert user.count("<document>") == 4 and "source: a.com" in user
    assert user.startswith("Question: Is it?") and user.endswith("Answer with Yes or No.")


# -- the world's yes/no questions ---------------------------------------------------------------
@pytest.fixture(scope="module")
def world():
    return build_world(Sizes.at(0.5), seed=13)


def test_questions_are_balanced_and_conflicting(world):
    qa = authority_questions(world, 13, n_questions=12, top_k=4)
    q, d = qa.questions, qa.docs
    assert q.height == 12 and q["answers"].list.first().value_counts()["count"].to_list() == [6, 6]
    assert d.group_by("qid").len()["len"].to_list() == [4] * 12
    for qid, answer, claim, value, eid, attr in q.select(
        "qid", pl.col("answers").list.first(), "claim", "value", "entity_id", "attribute"
    ).iter_rows():
        docs = d.filter(pl.col("qid") == qid)
        assert docs["correct"].to_list().count(True) >= 1
        assert docs["correct"].to_list().count(False) >= 1
        assert value in claim
        truth = world.entities.answers(eid, attr)
        if answer == "yes":
            assert value in truth
        else:  # a false claim repeats what a wrong page says
            assert value not in truth
            wrong = docs.filter(pl.col("correct").not_())["snippet"].to_list()
            assert any(value in s for s in wrong)


def test_more_questions_keep_the_first_ones_and_the_facet_stream_is_its_own(world):
    small = authority_questions(world, 13, 5, 4)
    big = authority_questions(world, 13, 9, 4)
    assert big.questions.head(5).equals(small.questions)
    assert big.docs.filter(pl.col("qid").is_in(small.questions["qid"].implode())).equals(small.docs)
    assert FACETS["qa"] == 5 and QA_KINDS["authority_yesno"] == 0
    assert len(set(QA_KINDS.values())) == len(QA_KINDS)  # every qa kind its own stream
    assert qa_rng(13, "authority_yesno").random() == qa_rng(13, "authority_yesno").random()


# -- measures -----------------------------------------------------------------------------------
def test_correlations_by_hand():
    assert correlations([1, 2, 3, 4], [10, 20, 30, 40]) == {"spearman": 1.0, "kendall": 1.0}
    assert correlations([4, 3, 2, 1], [10, 20, 30, 40])["spearman"] == pytest.approx(-1.0)
    # missing scores are skipped; 2 left -> undefined
    assert correlations([1, None, 2, None], [1, 2, 3, 4]) == {"spearman": None, "kendall": None}
    assert correlations([3, 3, 3], [1, 2, 3]) == {"spearman": None, "kendall": None}
    # one swap among 4: rho = 1 - 6*2/(4*15) = 0.8, tau = (5-1)/6
    got = correlations([1, 3, 2, 4], [1, 2, 3, 4])
    assert got["spearman"] == pytest.approx(0.8) and got["kendall"] == pytest.approx(4 / 6)


def test_pair_values_from_scores_and_from_preferences():
    pairs = pl.DataFrame(
        {
            "pair_id": ["p1", "p2", "p3"],
            "a": ["x", "y", "x"],
            "b": ["y", "z", "z"],
            "kind": ["easy", "hard", "hard"],
            "winner": ["x", "z", "z"],
        }  # fmt: skip
    )
    by_score = pair_values(pairs, item_scores={"x": 3.0, "y": 1.0, "z": 1.0})
    assert by_score["value"].to_list() == [1.0, 0.5, 0.0]
    by_pref = pair_values(pairs, prefs={"p1": 0.2, "p2": 0.3, "p3": None})
    assert by_pref["value"].to_list() == [0.0, 1.0, None]


def test_bootstrap_intervals_bracket_the_estimate():
    lo, hi = mean_ci([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    assert lo <= 0.75 <= hi and 0 <= lo < hi <= 1
    lo, hi = spearman_ci(list(range(12)), list(range(12)))
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0)
    assert mean_ci([1.0]) == (None, None)

"""P4 questions: the world's multi-answer facet, MACE and JSONL loaders, the qa contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trustir.calibration.params import QAParams
from trustir.calibration.qa import QA, jsonl_qa, mace_qa, normalize, split_of
from trustir.schema import conform
from trustir.sources.world import Sizes, build_world
from trustir.sources.world.qa import authority_questions, multi_answer_questions


@pytest.fixture(scope="module")
def world():
    return build_world(Sizes.at(1.0), 13, 0.3)


def test_world_facet_has_equal_counts_and_answers_in_context(world) -> None:
    qa = multi_answer_questions(world, 13, 3)
    assert sorted(qa["n_answers"].to_list()) == [1] * 3 + [2] * 3 + [4] * 3 + [6] * 3
    for row in qa.iter_rows(named=True):
        assert len(row["answers"]) == row["n_answers"] == len(set(row["answers"]))
        assert len(row["context"]) == row["n_answers"] + 2  # + two distractor pages
        for name in row["answers"]:  # every answer's page is shown (title or sentence)
            assert any(name in s for s in row["context"]), (row["qid"], name)
    assert qa["domain"].n_unique() > 1


def test_world_facet_is_seeded_and_leaves_other_qa_alone(world) -> None:
    before = authority_questions(world, 13, 6, 3).questions
    a = multi_answer_questions(world, 13, 2)
    assert a.equals(multi_answer_questions(world, 13, 2))
    assert authority_questions(world, 13, 6, 3).questions.equals(before)
    assert not a.equals(multi_answer_questions(world, 14, 2))


def test_world_facet_too_few_groups_is_a_clear_error() -> None:
    small = build_world(Sizes.at(0.15), 13, 0.3)
    with pytest.raises(ValueError, match="answer count 6"):
        multi_answer_questions(small, 13, 1)
    assert multi_answer_questions(small, 13, 1, counts=(1, 2)).height == 2


def test_jsonl_source(tmp_path: Path) -> None:
    f = tmp_path / "q.jsonl"
    rows = [{"id": "a", "question": "Who?", "answers": ["X", "Y"]},
            {"id": "b", "question": "What?", "answers": ["Z"]}]  # fmt: skip
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    qa = jsonl_qa(f, QAParams(), 0.5)
    assert dict(qa.schema) == QA
    assert conform(qa, "qa").equals(qa)  # the contract columns first, in order
    assert qa["n_answers"].to_list() == [2, 1]
    assert jsonl_qa(f, QAParams(max_questions=1), 0.5).height == 1
    f.write_text('{"id": "a", "question": "Who?"}\n')
    with pytest.raises(ValueError, match=r"q\.jsonl:1"):
        jsonl_qa(f, QAParams(), 0.5)


def test_mace_source_takes_per_count_of_each_domain_and_count(tmp_path: Path) -> None:
    lines = [
        {"id": f"{c}_{k}a_{i}", "category": c, "n_answers_target": k, "question": f"q{i}",
         "reference": [f"r{j}" for j in range(k)]}
        for c in ("award", "river") for k in (1, 2, 4, 6) for i in range(3)
    ]  # fmt: skip
    (tmp_path / "mace_questions_with_deepseek_v3_answers.jsonl").write_text(
        "\n".join(json.dumps(r) for r in lines) + "\n"
    )
    qa = mace_qa(tmp_path, QAParams(per_count=2, counts=[1, 6]), 0.5)
    assert qa.height == 2 * 2 * 2
    assert sorted(set(qa["domain"].to_list())) == ["award", "river"]
    assert all(len(a) == k for a, k in qa.select("answers", "n_answers").iter_rows())
    with pytest.raises(FileNotFoundError, match="MACE"):
        mace_qa(tmp_path / "nowhere", QAParams(), 0.5)


def test_split_is_stable_and_near_the_fraction() -> None:
    splits = [split_of(f"q{i}", 0.3) for i in range(2000)]
    assert splits == [split_of(f"q{i}", 0.3) for i in range(2000)]
    assert 0.25 < splits.count("fit") / 2000 < 0.35
    assert normalize("An Apple, the pie.") == "apple pie"

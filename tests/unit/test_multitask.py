"""P5 training side: schedules give single-set batches in the right order, bags and replay
samples, training on a schedule with a tiny BERT, and the BOOM table's columns and findings."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from trustir.config import ParamsError
from trustir.merging.base import MERGES
from trustir.multitask.evaluate import RowResult
from trustir.multitask.params import BoomParams
from trustir.multitask.report import boom_table, column, report_markdown, retrain_row
from trustir.multitask.schedules import SCHEDULES, sequential, set_batches, shuffle, two_stage
from trustir.multitask.training import sample_sets, schedule_summary
from trustir.params import parse_params
from trustir.report import Provenance

SETS = {
    "a": [f"a{i}" for i in range(5)],
    "b": [f"b{i}" for i in range(4)],
    "c": [f"c{i}" for i in range(2)],
}


def task_of(item: str) -> str:
    return item[0]


def check_single_set_and_complete(batches, epochs: int, batch_size: int) -> None:
    for b in batches:
        assert {task_of(i) for i in b.items} == {b.task}, b
        assert 1 <= len(b.items) <= batch_size
    for task, items in SETS.items():
        seen = [i for b in batches if b.task == task for i in b.items]
        assert sorted(seen) == sorted(items * epochs)  # every item once per epoch


def test_set_batches_cut_a_seeded_order():
    batches = set_batches(SETS, "a", 2, epoch=0, seed=1)
    assert [len(b.items) for b in batches] == [2, 2, 1]
    assert set_batches(SETS, "a", 2, 0, 1) == batches
    assert set_batches(SETS, "a", 2, 1, 1) != batches  # a new order each epoch


def test_shuffle_mixes_single_set_batches():
    batches = shuffle(SETS, batch_size=2, epochs=2, seed=3)
    check_single_set_and_complete(batches, 2, 2)
    per_epoch = len(batches) // 2  # 3 + 2 + 1 batches per epoch
    assert per_epoch == 6
    first = [b.task for b in batches[:per_epoch]]
    assert sorted(first) == ["a", "a", "a", "b", "b", "c"]
    assert first != sorted(first)  # interleaved, not set after set
    assert shuffle(SETS, 2, 2, 3) == batches and shuffle(SETS, 2, 2, 4) != batches


def test_sequential_runs_set_after_set_for_all_epochs():
    batches = sequential(SETS, batch_size=2, epochs=2, seed=3)
    check_single_set_and_complete(batches, 2, 2)
    assert [b.task for b in batches] == ["a"] * 6 + ["b"] * 4 + ["c"] * 2
    assert schedule_summary(batches)["order"] == "a×6 b×4 c×2"


def test_two_stage_runs_the_first_group_then_the_rest():
    batches = two_stage(SETS, batch_size=2, epochs=1, seed=3, first=["c", "a"])
    check_single_set_and_complete(batches, 1, 2)
    tasks = [b.task for b in batches]
    assert sorted(tasks[:4]) == ["a", "a", "a", "c"] and tasks[4:] == ["b", "b"]
    with pytest.raises(ValueError, match="some, not all"):
        two_stage(SETS, 2, first=["a", "b", "c"])
    with pytest.raises(ValueError, match="some, not all"):
        two_stage(SETS, 2, first=["z"])
    assert SCHEDULES.names() == ["sequential", "shuffle", "two_stage"]


def test_sample_sets_draw_a_share_without_replacement():
    big = {"x": list(range(100)), "y": list(range(10))}
    bag = sample_sets(big, 0.4, seed=1, salt=0)
    assert len(bag["x"]) == 40 and len(bag["y"]) == 4
    assert len(set(bag["x"])) == 40 and bag["x"] == sorted(bag["x"])
    assert sample_sets(big, 0.4, 1, 0) == bag and sample_sets(big, 0.4, 1, 1) != bag
    assert sample_sets(big, 0.01, 1)["y"] == [sample_sets(big, 0.01, 1)["y"][0]]  # at least one
    assert sample_sets(big, 0.0, 1) == {}


def test_params_validate_names_and_consistency():
    assert BoomParams() == parse_params({}).boom
    assert MERGES.names() == ["dare", "linear", "multislerp", "slerp", "task_arithmetic", "ties"]
    bad = {
        "tasks": ["qa", "nope"],
        "ood": ["qa"],
        "schedules": ["sequential"],
        "merge": {"methods": ["linear", "avg"]},
        "incremental": {"new_task": "claim"},
        "train": {"grad_accum": 2},
    }
    for key, value in bad.items():
        with pytest.raises(ParamsError, match="boom"):
            parse_params({"boom": {key: value}})
    with pytest.raises(ParamsError, match="unknown merge method 'avg'"):
        parse_params({"boom": {"merge": {"methods": ["avg"]}}})


# -- training on a schedule (tiny BERT) ---------------------------------------------------------
def test_training_on_a_schedule_takes_one_step_per_single_set_batch(tiny_model, tmp_path):
    from trustir.multitask.training import schedule_batches, train_on_batches
    from trustir.retrieval.train import TrainQuery
    from trustir.retrieval.train_params import TrainParams

    texts = {f"{t}:d{i}": f"{t} document number {i}" for t in "xy" for i in range(6)}
    sets = {
        t: [TrainQuery(f"{t}:q{i}", f"{t} query {i}", [(f"{t}:d{i}", 1)]) for i in range(5)]
        for t in "xy"
    }
    tp = TrainParams(model=tiny_model, batch_size=2, max_length=16, device="cpu", lr=1e-3)
    batches = schedule_batches("sequential", sets, tp)
    assert [b.task for b in batches] == ["x"] * 3 + ["y"] * 3
    res = train_on_batches(batches, texts, tp, tmp_path / "model", show_progress=False)
    assert res.steps == 6 and res.examples == 10
    assert (tmp_path / "model" / "model.safetensors").exists()
    meta = json.loads((tmp_path / "model" / "trustir_train.json").read_text())
    assert meta["schedule"] == {"batches": {"x": 3, "y": 3}, "order": "x×3 y×3"}
    with pytest.raises(ValueError, match="grad_accum"):
        train_on_batches(batches, texts, tp.model_copy(update={"grad_accum": 2}), tmp_path / "z")


# -- the table ----------------------------------------------------------------------------------
def row(name: str, scores: dict[str, float], examples: int, seconds: float) -> RowResult:
    per_query = pl.DataFrame(
        {
            "task": list(scores),
            "query_id": [f"{t}:q1" for t in scores],
            "value": list(scores.values()),
        }
    )
    return RowResult(name, scores, per_query, examples, seconds)


def test_boom_table_columns_means_and_findings():
    bp = BoomParams(
        tasks=["qa", "dupq"],
        ood=["claim"],
        two_stage_first=["qa"],
        incremental={"new_task": "dupq"},
    )
    shuffle_row = row("shuffle", {"qa": 0.6, "dupq": 0.8, "claim": 0.5}, 100, 20.0)
    rows = [
        shuffle_row,
        row("boom", {"qa": 0.7, "dupq": 0.8, "claim": 0.4}, 150, 30.0),
        row("incremental", {"qa": 0.5, "dupq": 0.8, "claim": 0.5}, 40, 5.0),
        retrain_row(shuffle_row),
    ]
    table = boom_table(rows, bp, Provenance())
    m = "nDCG@10"
    assert table.rows == ["shuffle", "boom", "incremental", "retrain"]
    assert table.columns == [
        column(m, "qa"),
        column(m, "dupq"),
        column(m, "claim"),
        column(m, "in_domain"),
        column(m, "ood"),
        "train_examples",
    ]  # no wall seconds: they describe a run (the run ledger), not a result
    assert table.cells["boom"][column(m, "in_domain")] == pytest.approx(0.75)
    assert table.cells["retrain"] == table.cells["shuffle"]
    assert not table.better("train_examples")
    assert set(table.per_query["column"]) == {column(m, t) for t in ("qa", "dupq", "claim")}
    notes = " ".join(table.notes)
    assert "in-domain 0.7500 vs 0.7000 (+0.0500)" in notes
    assert "BOOM ≥ shuffle in-domain: True, out-of-domain: False" in notes
    assert "at 0.40× the training examples." in notes and "seconds." not in notes
    md = report_markdown(table, bp)
    assert md.count("| retrain |") == 2 and "| row | nDCG@10/in_domain ↑" in md


def test_row_result_keeps_wall_seconds_out_of_its_result_files(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # the repo root of the run ledger
    out = tmp_path / "data/boom/bags"
    r = RowResult("boom", {"qa": 0.5}, row("boom", {"qa": 0.5}, 1, 0).per_query, 12, 3.25,
                  {"models": 2, "merge_seconds": 0.5})  # fmt: skip
    r.save(out)
    meta = json.loads((out / "metrics.json").read_text())
    assert meta == {"row": "boom", "scores": {"qa": 0.5}, "train_examples": 12, "models": 2}
    record = json.loads((tmp_path / "runs/data/boom/bags.json").read_text())
    assert record == {"seconds": 3.25, "merge_seconds": 0.5}
    assert RowResult.load(out).seconds == 3.25
    (tmp_path / "runs/data/boom/bags.json").unlink()  # a fresh clone has no run ledger
    assert math.isnan(RowResult.load(out).seconds)

"""Stable result files (issue 20, part 2): rounding before ranking, metrics at a fixed number of
significant digits, labels without per-call columns, and the git-ignored run ledger."""

import json
import math

import numpy as np
import polars as pl

from trustir.io.runlog import read_run_record, run_record_path, write_run_record
from trustir.io.stable import round_sig, stable_labels, stable_numbers, write_metrics
from trustir.retrieval.runs import rank_run, run_from_topk


def test_round_sig_keeps_six_significant_digits():
    # the example: the same LL in two runs, different in the 16th digit
    assert round_sig(-0.33343337352298036) == round_sig(-0.3334333735229804) == -0.333433
    assert round_sig(1234567.0) == 1234570.0 and round_sig(0.000123456789) == 0.000123457
    assert round_sig(0.0) == 0.0 and math.isnan(round_sig(math.nan))
    assert stable_numbers({"a": [0.123456789, 3, None, True], "b": {"c": 2.0}}) == {
        "a": [0.123457, 3, None, True],
        "b": {"c": 2.0},
    }


def test_write_metrics_writes_rounded_json(tmp_path):
    write_metrics({"x": {"nDCG@10": 0.59731234567}}, tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text()) == {"x": {"nDCG@10": 0.597312}}


def test_float_noise_changes_neither_scores_nor_ranks():
    scores = np.array([[0.81234561, 0.81234558, 0.5]], dtype=np.float64)
    noisy = scores + np.array([[3e-8, -2e-8, 1e-9]])  # FAISS noise between thread counts
    idx = np.array([[0, 1, 2]])
    a = run_from_topk(["q"], ["d2", "d1", "d3"], idx, scores, "dense")
    b = run_from_topk(["q"], ["d2", "d1", "d3"], idx, noisy, "dense")
    assert a.equals(b)
    # both round to 0.81235: a tie, broken by doc_id (d1 before d2)
    assert a["doc_id"].to_list() == ["d1", "d2", "d3"] and a["score"][0] == 0.81235
    assert rank_run(a.drop("rank"), "dense")["rank"].to_list() == [1, 2, 3]


def test_stable_labels_nulls_per_call_columns_and_rounds_scores():
    labels = pl.DataFrame(
        {
            "key": ["k"],
            "score": [0.7312345678],
            "latency_ms": [12.5],
            "created_at": ["2026-01-01T00:00:00"],
        }
    )
    out = stable_labels(labels)
    assert out.schema == labels.schema and out["score"][0] == 0.73123
    assert out["latency_ms"][0] is None and out["created_at"][0] is None
    assert stable_labels(pl.DataFrame()).is_empty()


def test_run_ledger_lives_under_runs_of_the_repo_root(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    out = tmp_path / "metrics/annotate.json"
    assert run_record_path(out, tmp_path) == tmp_path / "runs/metrics/annotate.json"
    assert read_run_record(out, tmp_path) == {}
    write_run_record(out, {"llm_calls": 3}, tmp_path)
    assert read_run_record(out, tmp_path) == {"llm_calls": 3}
    assert read_run_record(tmp_path / "data/annotate") == {}  # root found from the path

"""The judge_bench stage through DVC on the tiny world with the real SmolLM2: metrics/judges.json
has a row per judge (and the reference rows), per-pair values for ``trustir compare``; the
default judge's bench pairs come from annotate's labels (no call), and a forced re-run costs no
LLM calls (the label store)."""

from __future__ import annotations

import ast
import json

import polars as pl
import pytest
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow


def test_judge_bench_rows_per_pair_values_and_free_rerun(tiny_repo_factory, param_setter, tmp_path):
    repo = tiny_repo_factory(tmp_path / "repo")
    param_setter(repo, "annotate.store", str(tmp_path / "labels.sqlite"))  # a fresh store
    first = run_dvc(repo, "repro", "judge_bench").stdout
    cells = json.loads((repo / "metrics/judges.json").read_text())
    assert list(cells) == [
        "relevance",
        "query-likelihood",
        "run:bm25",
        "run:dense-minilm",
        "calibrated",
    ]
    for row in cells.values():
        assert set(row) == {"AUC", "kappa", "nDCG@10"}
    per = pl.read_parquet(repo / "data/judge_bench/judges.per_query.parquet")
    auc = per.filter((pl.col("row") == "query-likelihood") & (pl.col("column") == "AUC"))
    assert auc["query_id"].str.contains(r"\|").all()  # one value per positive pair
    assert auc["value"].mean() == pytest.approx(cells["query-likelihood"]["AUC"])
    costs = ast.literal_eval(first.split("this run's costs: ")[1].splitlines()[0])
    assert costs["relevance"]["llm_calls"] > 0  # annotate did not run the graded judge
    assert costs["query-likelihood"]["llm_calls"] == 0  # annotate's judge: all its pairs reused
    pairs = costs["relevance"]["llm_calls"] + costs["relevance"]["cache_hits"]
    assert costs["query-likelihood"]["cache_hits"] == pairs
    again = run_dvc(repo, "repro", "-f", "-s", "judge_bench").stdout
    assert again.count("'llm_calls': 0,") == 2, again  # both judges: all cache hits

"""P4 end to end with the real SmolLM2 on the tiny profile: `dvc repro calibration` writes the
table with every method and answer count, per-question values behind the cells, the plot and
the report; a forced re-run of calibration_sample makes 0 LLM calls (all from the label store)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from dvc_helpers import run_dvc

from trustir.io.runlog import read_run_record

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tiny_repo_factory, param_setter, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("calibration")
    repo = tiny_repo_factory(tmp / "repo")
    param_setter(repo, "calibration.store", str(tmp / "labels.sqlite"))  # a fresh store
    run_dvc(repo, "repro", "calibration")
    return repo


def test_table_has_every_method_and_count(repo: Path):
    params = yaml.safe_load((repo / "params.yaml").read_text())["calibration"]
    metrics = json.loads((repo / "metrics/calibration.json").read_text())
    assert list(metrics) == params["methods"]
    counts = params["qa"]["counts"]
    for cells in metrics.values():
        for col in ["ece", *[f"ece/{k}" for k in counts], "brier", "accuracy", "confidence"]:
            assert 0.0 <= cells[col] <= 1.0, col
        assert cells["auroc"] is None or 0.0 <= cells["auroc"] <= 1.0
    qa = pl.read_parquet(repo / "data/calibration_sample/qa.parquet")
    assert sorted(qa["n_answers"].to_list()) == sorted(
        k for k in counts for _ in range(params["qa"]["per_count"])
    )
    pq = pl.read_parquet(repo / "data/calibration/calibration.per_query.parquet")
    for (method, col), grp in pq.group_by(["row", "column"]):
        if col in ("ece", "brier", "accuracy", "confidence") or col.startswith("ece/"):
            # metrics are written at 6 significant digits (trustir.io.stable): relative 5e-6
            want = metrics[method][col]
            assert grp["value"].mean() == pytest.approx(want, rel=5e-6, abs=1e-9), (method, col)
    assert (repo / "reports/plots/calibration.png").stat().st_size > 1000
    assert "contains match" in (repo / "reports/calibration.md").read_text()


def test_forced_rerun_costs_no_calls(repo: Path):
    before = (repo / "metrics/calibration.json").read_bytes()
    run_dvc(repo, "repro", "--force", "--single-item", "calibration_sample")
    run = read_run_record(repo / "data/calibration_sample", repo)  # the git-ignored run ledger
    assert run["llm_calls"] == 0 and run["cache_hits"] > 0
    run_dvc(repo, "repro", "calibration")
    assert (repo / "metrics/calibration.json").read_bytes() == before

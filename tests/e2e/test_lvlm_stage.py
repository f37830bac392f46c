"""P10 end to end on the tiny profile, with the real SmolLM2 and the tiny Qwen2-VL: `dvc repro
lvlm` runs vision_world, lvlm_sample and lvlm and writes the table (every model x signal row),
the per-question values behind its cells, the reliability diagrams and the report; a forced
re-run of lvlm_sample makes no LLM or VLM call (all from the label store)."""

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
    tmp = tmp_path_factory.mktemp("lvlm")
    repo = tiny_repo_factory(tmp / "repo")
    param_setter(repo, "lvlm.store", str(tmp / "labels.sqlite"))  # a fresh store
    run_dvc(repo, "repro", "lvlm")
    return repo


def test_table_has_every_row_and_the_per_item_values_behind_it(repo: Path):
    p = yaml.safe_load((repo / "params.yaml").read_text())["lvlm"]
    metrics = json.loads((repo / "metrics/lvlm.json").read_text())
    want = [f"{m}/{x}" for m in p["models"] for x in p["methods"]]
    want += [f"{m}/lexical_consistency@{s}" for m in p["models"] for s in p["consistency_sets"]]
    want.remove("text/lexical_consistency@perturbed")  # the text model sees no image
    assert sorted(metrics) == sorted(want)
    for row, cells in metrics.items():
        for col in ("ece", "brier", "accuracy", "confidence"):
            assert 0.0 <= cells[col] <= 1.0, (row, col)
        assert cells["auroc"] is None or 0.0 <= cells["auroc"] <= 1.0
    vqa = pl.read_parquet(repo / "data/lvlm_sample/vqa.parquet")
    assert vqa.height == p["items"]
    pq = pl.read_parquet(repo / "data/lvlm/lvlm.per_query.parquet")
    for (row, col), grp in pq.group_by(["row", "column"]):
        if col != "auroc":
            assert grp["value"].mean() == pytest.approx(metrics[row][col], rel=5e-6, abs=1e-9)
            assert grp.height == p["items"], (row, col)
    assert (repo / "reports/plots/lvlm.png").stat().st_size > 1000
    assert "random weights" in (repo / "reports/lvlm.md").read_text()


def test_forced_rerun_costs_no_calls(repo: Path):
    before = (repo / "metrics/lvlm.json").read_bytes()
    run_dvc(repo, "repro", "--force", "--single-item", "lvlm_sample")
    run = read_run_record(repo / "data/lvlm_sample", repo)
    assert run["llm_calls"] == 0 and run["vlm_calls"] == 0 and run["cache_hits"] > 0
    run_dvc(repo, "repro", "lvlm")
    assert (repo / "metrics/lvlm.json").read_bytes() == before

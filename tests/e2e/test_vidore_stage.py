"""The P6 stages end to end on the tiny profile: `dvc repro vidore` runs vidore_data and
agree_train and writes metrics/vidore.json (global-only and every AGREE row), the per-query
values behind it, the target's region mass, reports/vidore.md and its plot; a forced re-run
reads every attention target from the cache."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow


def test_vidore_table_has_every_row_and_cached_targets(tiny_repo_factory, tmp_path):
    repo = tiny_repo_factory(tmp_path / "repo")
    run_dvc(repo, "repro", "vidore")
    agree = yaml.safe_load((repo / "params.yaml").read_text())["agree"]
    rows = ["global"] + [f"agree-{v}-l{lam:g}" for v in agree["local_losses"]
                         for lam in agree["lambdas"]]  # fmt: skip
    metrics = json.loads((repo / "metrics/vidore.json").read_text())
    assert list(metrics) == rows
    assert all(set(m) == {"nDCG@1", "nDCG@5"} for m in metrics.values())
    assert all(0 <= v <= 1 for m in metrics.values() for v in m.values())
    per_query = pl.read_parquet(repo / "data/vidore/vidore.per_query.parquet")
    test_queries = pl.read_parquet(repo / "data/vidore_data/queries.parquet").filter(
        pl.col("split") == "test")  # fmt: skip
    for row in rows:  # each cell is the mean of its per-query values, over every test query
        mine = per_query.filter((pl.col("row") == row) & (pl.col("column") == "nDCG@5"))
        assert sorted(mine["query_id"]) == sorted(test_queries["query_id"])
        assert mine["value"].mean() == pytest.approx(metrics[row]["nDCG@5"], abs=1e-4)
    quality = json.loads((repo / "data/agree_train/target_quality.json").read_text())
    assert quality["with_region"] == quality["pairs"] > 0
    assert 0 <= quality["mass_in_region"] <= 1 and quality["region_share"] == pytest.approx(0.25)
    md = (repo / "reports/vidore.md").read_text()
    assert "| agree-kl-l1 |" in md and "mass inside the answer region" in md
    assert "randomization p" in md
    assert (repo / "reports/plots/vidore.png").read_bytes()[:4] == b"\x89PNG"
    run_dvc(repo, "repro", "-f", "agree_train")
    again = json.loads((repo / "data/agree_train/target_quality.json").read_text())
    assert again["cache"] == {"hits": quality["pairs"], "misses": 0}

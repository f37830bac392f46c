"""The P2/P7 stages end to end on the tiny profile: `dvc repro mmeb` runs vision_world and
mm_train@{none,cocoa,coma} and writes metrics/mmeb.json (every variant x task), the per-item
values behind it, reports/mmeb.md and its plot."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow

TASKS = ("i2t", "t2i", "cls", "vqa")


def test_mmeb_table_has_every_variant_and_its_per_item_values(tiny_repo_factory, tmp_path):
    repo = tiny_repo_factory(tmp_path / "repo")
    run_dvc(repo, "repro", "mmeb")
    vision = yaml.safe_load((repo / "params.yaml").read_text())["vision"]
    metrics = json.loads((repo / "metrics/mmeb.json").read_text())
    assert list(metrics) == ["none", "cocoa", "coma"] == vision["variants"]
    columns = {"P@1", *(f"P@1/{t}" for t in TASKS)}
    for variant, row in metrics.items():
        assert set(row) == columns, variant
        assert row["P@1"] == pytest.approx(sum(row[f"P@1/{t}"] for t in TASKS) / 4, abs=1e-3)
    per_query = pl.read_parquet(repo / "data/mmeb/mmeb.per_query.parquet")
    assert set(per_query["row"]) == set(metrics) and set(per_query["column"]) == columns
    assert set(per_query["value"]) <= {0.0, 1.0}
    for variant, row in metrics.items():  # each cell is the mean of its per-item values
        mine = per_query.filter((pl.col("row") == variant) & (pl.col("column") == "P@1/cls"))
        assert 0 < mine.height <= vision["eval_max_items"]
        assert mine["value"].mean() == pytest.approx(row["P@1/cls"], abs=1e-4)
    for variant in metrics:
        log = json.loads((repo / f"data/mm_train/{variant}/log.json").read_text())
        pre = log["pretrain"]["examples"]
        assert pre + log["contrastive"]["examples"] == (
            vision["pretrain_examples"] + vision["contrastive_examples"]
        )  # equal total examples
        assert (pre == 0) == (variant == "none")
    md = (repo / "reports/mmeb.md").read_text()
    assert "| cocoa |" in md and "randomization p" in md
    assert (repo / "reports/plots/mmeb.png").read_bytes()[:4] == b"\x89PNG"

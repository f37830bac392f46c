"""The P5 stages end to end on the tiny profile, whose models are tiny-bert (built from a config):
the reproduced repo built the task sets, trained the schedules, experts, bags and the incremental
update, merged them (streamed safetensors) and wrote metrics/boom.json with its golden values,
per-query values, the report and its plot; a second `dvc repro boom` is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import golden
import polars as pl
import pytest
import yaml
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reproduced(tiny_reproduced: Path) -> Path:
    return tiny_reproduced


def test_boom_writes_every_row_and_column(reproduced: Path) -> None:
    bp = yaml.safe_load((reproduced / "params.yaml").read_text())["boom"]
    metrics = json.loads((reproduced / "metrics/boom.json").read_text())
    rows = [
        "untrained",
        *bp["schedules"],
        *[f"merge/{m}" for m in bp["merge"]["methods"]],
        "boom",
        "existing",
        "incremental",
        "retrain",
    ]
    assert list(metrics) == rows and len(bp["merge"]["methods"]) == 6
    tasks = [*bp["tasks"], *bp["ood"]]
    columns = [f"nDCG@10/{t}" for t in [*tasks, "in_domain", "ood"]]
    for name, cells in metrics.items():
        assert list(cells) == [*columns, "train_examples"], name
    golden.check(reproduced, "metrics/boom.json")
    for name in ("shuffle", "merge/linear", "boom", "incremental"):  # trained rows moved
        assert metrics[name]["nDCG@10/in_domain"] != metrics["untrained"]["nDCG@10/in_domain"]
    cap, n_in = bp["max_train_per_task"], len(bp["tasks"])
    assert metrics["untrained"]["train_examples"] == 0
    assert metrics["shuffle"]["train_examples"] == cap * n_in  # every training query once
    assert metrics["retrain"] == metrics["shuffle"]
    assert metrics["incremental"]["train_examples"] < metrics["retrain"]["train_examples"]
    per_query = pl.read_parquet(reproduced / "data/boom/table/boom.per_query.parquet")
    assert set(per_query["row"]) == set(rows)
    assert set(per_query["column"]) == {f"nDCG@10/{t}" for t in tasks}
    md = (reproduced / "reports/boom.md").read_text()
    assert "BOOM vs batch-level shuffling" in md and "Incremental update vs retraining" in md
    assert (reproduced / "reports/plots/boom.png").read_bytes()[:4] == b"\x89PNG"


def test_models_are_safetensors_and_schedules_keep_their_order(reproduced: Path) -> None:
    data = reproduced / "data"
    bp = yaml.safe_load((reproduced / "params.yaml").read_text())["boom"]
    for folder in [
        data / "multitask/schedules/shuffle/model",
        *[data / "boom/experts" / t / "model" for t in bp["tasks"]],
        data / "boom/bags/model",
        data / "boom/incremental/model",
    ]:
        assert (folder / "model.safetensors").exists(), folder
        config = json.loads((folder / "config.json").read_text())
        assert config["hidden_size"] == 32, folder  # tiny-bert, never MiniLM, in the tiny profile
    for method in bp["merge"]["methods"]:
        meta = json.loads((data / "boom/merge" / method / "model/trustir_merge.json").read_text())
        assert meta["method"] == method and len(meta["models"]) == len(bp["tasks"])
    train = json.loads(
        (data / "multitask/schedules/sequential/model/trustir_train.json").read_text()
    )
    per_task = bp["max_train_per_task"] // bp["train"]["batch_size"]
    assert train["schedule"]["order"] == " ".join(f"{t}×{per_task}" for t in bp["tasks"])
    two = json.loads((data / "multitask/schedules/two_stage/model/trustir_train.json").read_text())
    first = set(bp["two_stage_first"])
    order = [run.split("×")[0] for run in two["schedule"]["order"].split()]
    boundary = max(i for i, t in enumerate(order) if t in first)
    assert all(t in first for t in order[:boundary]) and not first & set(order[boundary + 1 :])


def test_second_repro_is_a_no_op(reproduced: Path) -> None:
    assert "Data and pipelines are up to date" in run_dvc(reproduced, "repro", "boom").stdout

"""The P3 stages end to end on the tiny profile: the reproduced repo's loss x regime matrix
(tiny-bert, a config-built model) wrote metrics/multipos.json with its golden values, per-query
values and reports/multipos.md; a second `dvc repro multipos` is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import golden
import polars as pl
import pytest
import yaml
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow

MEASURES = {"nDCG@10", "R@100", "RR@10"}


@pytest.fixture(scope="module")
def reproduced(tiny_reproduced: Path) -> Path:
    return tiny_reproduced


def test_multipos_writes_every_variant_and_the_baseline(reproduced: Path) -> None:
    mp = yaml.safe_load((reproduced / "params.yaml").read_text())["multipos"]
    variants = [(loss, regime) for loss in mp["losses"] for regime in mp["regimes"]]
    assert len(variants) >= 4
    metrics = json.loads((reproduced / "metrics/multipos.json").read_text())
    assert set(metrics) == {f"{loss}/{regime}" for loss, regime in variants} | {"untrained"}
    for row in metrics.values():
        assert set(row) == MEASURES
    golden.check(reproduced, "metrics/multipos.json")
    assert metrics["infonce/llm"] != metrics["untrained"]  # training moved the ranking
    tp = mp["train"]
    for loss, regime in variants:
        folder = reproduced / "data/train_retriever" / f"{loss}-{regime}"
        config = json.loads((folder / "model" / "config.json").read_text())
        assert (folder / "model" / "model.safetensors").exists()
        assert tp["model"] == "tiny-bert" and config["hidden_size"] == 32  # never MiniLM here
        info = json.loads((folder / "metrics.json").read_text())
        (phase,) = info["phases"]
        batches = -(-phase["queries"] // tp["batch_size"])  # ceil
        assert phase["queries"] == mp["max_train_queries"] and phase["epochs"] == tp["epochs"]
        assert info["steps"] == batches * tp["epochs"]  # one optimizer step per micro-batch
    per_query = pl.read_parquet(reproduced / "data/multipos/multipos.per_query.parquet")
    assert set(per_query["row"]) == set(metrics) and set(per_query["column"]) == MEASURES
    n_queries = per_query["query_id"].n_unique()
    assert per_query.height == len(metrics) * len(MEASURES) * n_queries  # paired over queries
    md = (reproduced / "reports/multipos.md").read_text()
    header = "| loss | " + " ↑ | ".join(mp["regimes"]) + " ↑ |"
    assert header in md and "| untrained |" in md and "| lsepair/llm |" in md
    assert "data/train_retriever/" in md  # provenance names the variants' outputs
    assert (reproduced / "reports/plots/multipos.png").read_bytes()[:4] == b"\x89PNG"


def test_second_repro_is_a_no_op(reproduced: Path) -> None:
    out = run_dvc(reproduced, "repro", "multipos").stdout
    assert "Data and pipelines are up to date" in out

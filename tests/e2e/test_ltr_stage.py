"""The P8 stages end to end on the tiny profile: the reproduced repo's clicks, ltr_labels and ltr
wrote metrics/ltr.json (every ranker x supervision by frequency bucket) and
metrics/clickmodels.json with their golden values, per-query values, reports/ltr.md and its plot;
a second `dvc repro ltr` is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import golden
import polars as pl
import pytest
import yaml
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow

COLUMNS = {"nDCG@10/high", "nDCG@10/medium", "nDCG@10/low", "nDCG@10"}


@pytest.fixture(scope="module")
def reproduced(tiny_reproduced: Path) -> Path:
    return tiny_reproduced


def test_ltr_writes_the_table_by_frequency_bucket(reproduced: Path) -> None:
    ltr = yaml.safe_load((reproduced / "params.yaml").read_text())["ltr"]
    rows = {f"{r}/{s}" for r in ltr["rankers"] for s in ltr["supervisions"]}
    metrics = json.loads((reproduced / "metrics/ltr.json").read_text())
    assert set(metrics) == rows | {"bm25/none"}
    for row in metrics.values():
        assert set(row) == COLUMNS
    trained = [r for r in rows if metrics[r]["nDCG@10"] is not None]
    assert sorted(trained) == sorted(rows)  # every ranker x supervision trains on the tiny world
    golden.check(reproduced, "metrics/ltr.json")
    bm25 = json.loads((reproduced / "metrics/retrieval.json").read_text())["bm25"]
    assert metrics["bm25/none"]["nDCG@10"] == pytest.approx(bm25["nDCG@10"], abs=1e-12)
    per_query = pl.read_parquet(reproduced / "data/ltr/ltr.per_query.parquet")
    assert set(per_query["row"]) == {"bm25/none", *trained}
    assert set(per_query["column"]) == COLUMNS
    info = json.loads((reproduced / "data/ltr/info.json").read_text())
    assert "lambdamart: click − llm" in info["contrasts"]
    md = (reproduced / "reports/ltr.md").read_text()
    assert "| ranker/supervision | nDCG@10/high ↑" in md and "| lambdamart/famol |" in md
    assert "Paired differences" in md and "| click model |" in md
    assert (reproduced / "reports/plots/ltr.png").read_bytes()[:4] == b"\x89PNG"


def test_clicks_stage_writes_the_log_click_qrels_and_clickmodel_metrics(reproduced: Path) -> None:
    cm = json.loads((reproduced / "metrics/clickmodels.json").read_text())
    assert set(cm) == {"ctr", "pbm", "ubm", "sdbn"}
    for row in cm.values():
        assert set(row) == {"LL/world", "perplexity/world", "pearson/world", "spearman/world"}
        assert row["LL/world"] < 0 and 1 < row["perplexity/world"] < 2
    golden.check(reproduced, "metrics/clickmodels.json")
    sessions = pl.read_parquet(reproduced / "data/clicks/sessions.parquet")
    assert {"session_id", "query_id", "rank", "doc_id", "clicked", "part"} <= set(sessions.columns)
    qrels = pl.read_parquet(reproduced / "data/clicks/qrels.parquet")
    assert set(qrels["source"]) == {"click:ctr", "click:pbm", "click:ubm", "click:sdbn"}
    assert set(qrels["relevance"]) <= {0, 1, 2, 3}
    llm = pl.read_parquet(reproduced / "data/ltr_labels/qrels.parquet")
    assert llm["source"].n_unique() == 1 and llm["source"][0].startswith("llm:")


def test_second_repro_is_a_no_op(reproduced: Path) -> None:
    out = run_dvc(reproduced, "repro", "ltr").stdout
    assert "Data and pipelines are up to date" in out

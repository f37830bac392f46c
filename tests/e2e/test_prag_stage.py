"""P9 end to end with the real SmolLM2 on the tiny profile: `dvc repro prag` writes the table
(every mode at every noise level, per-question values behind the cells), the claims and the
report; a forced re-run of the three stages makes 0 LLM calls and trains 0 adapters."""

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
    tmp = tmp_path_factory.mktemp("prag")
    repo = tiny_repo_factory(tmp / "repo")
    param_setter(repo, "prag.store", str(tmp / "labels.sqlite"))  # fresh stores
    param_setter(repo, "prag.adapter_store", str(tmp / "adapters"))
    run_dvc(repo, "repro", "prag")
    return repo


def test_table_has_every_mode_and_noise(repo: Path):
    params = yaml.safe_load((repo / "params.yaml").read_text())["prag"]
    metrics = json.loads((repo / "metrics/prag.json").read_text())
    want = {f"{m}/{n:g}" for m in params["modes"] for n in params["noise"]}
    assert set(metrics) == want
    for cells in metrics.values():
        assert set(cells) == {"em", "f1", "contains"}
        assert all(0.0 <= v <= 1.0 for v in cells.values())
    pq = pl.read_parquet(repo / "data/prag/prag.per_query.parquet")
    n_q = pl.read_parquet(repo / "data/prag_augment/questions.parquet").height
    assert pq.group_by("row", "column").len()["len"].to_list() == [n_q] * len(want) * 3
    adapters = pl.read_parquet(repo / "data/prag_train/adapters.parquet")
    docs = pl.read_parquet(repo / "data/prag_augment/docs.parquet")
    assert sorted(adapters["doc_id"]) == sorted(docs["doc_id"]) and adapters["bytes"].min() > 0
    assert "P9's claims" in (repo / "reports/prag.md").read_text()
    assert (repo / "reports/plots/prag.png").stat().st_size > 1000


def test_forced_rerun_costs_nothing(repo: Path):
    before = (repo / "metrics/prag.json").read_bytes()
    for st in ("prag_augment", "prag_train", "prag_eval"):
        run_dvc(repo, "repro", "--force", "--single-item", st)
    assert read_run_record(repo / "data/prag_augment", repo)["llm_calls"] == 0
    assert read_run_record(repo / "data/prag_train", repo)["trained"] == 0
    assert read_run_record(repo / "data/prag_eval", repo)["llm_calls"] == 0
    run_dvc(repo, "repro", "prag")
    assert (repo / "metrics/prag.json").read_bytes() == before

"""The annotate stage with the real SmolLM2: exact LLM call counts from the ledger through DVC —
a forced re-run costs 0 calls, adding k queries costs calls only for their candidates — and the
golden agreement of the labels grown from 4 to 6 queries (those of a cold 6-query run)."""

from __future__ import annotations

import json
from pathlib import Path

import golden
import polars as pl
import pytest
from dvc_helpers import run_dvc

from trustir.annotate.pool import pool_candidates, select_queries

pytestmark = pytest.mark.slow


def run_counts(repo: Path) -> dict:
    """This run's counts: the git-ignored run ledger, never the metrics (issue 20)."""
    return json.loads((repo / "runs/metrics/annotate.json").read_text())


def expected_calls(repo: Path, max_queries: int, depth: int) -> int:
    """The default judge's calls: one per pair, plus one per query with pairs (query
    likelihood's PMI scores each query once after an empty passage)."""
    return expected_pairs(repo, max_queries, depth) + max_queries


def expected_pairs(repo: Path, max_queries: int, depth: int) -> int:
    queries = pl.read_parquet(repo / "data/fetch/queries.parquet")
    runs = [pl.read_parquet(p) for p in sorted((repo / "data/index").glob("*.run.parquet"))]
    chosen = select_queries(queries, "train", max_queries)["query_id"].to_list()
    return pool_candidates(runs, chosen, depth).height


def test_annotate_counts_calls_exactly(tiny_repo_factory, param_setter, tmp_path: Path):
    set_param = param_setter
    repo = tiny_repo_factory(tmp_path / "repo")
    set_param(repo, "annotate.store", str(tmp_path / "labels.sqlite"))  # a fresh store
    set_param(repo, "annotate.max_queries", 4)
    run_dvc(repo, "repro", "annotate")
    n = expected_pairs(repo, 4, 3)
    first = run_counts(repo)
    cold = {
        f: (repo / f).read_bytes()
        for f in ("metrics/annotate.json", "data/annotate/labels.parquet")
    }
    assert "run" not in json.loads(cold["metrics/annotate.json"])  # results only
    assert first["llm_calls"] == expected_calls(repo, 4, 3) and first["cache_hits"] == 0
    assert first["tokens_in"] > 30 * n
    labels = pl.read_parquet(repo / "data/annotate/labels.parquet")
    assert labels.height == n and set(labels["status"]) == {"ok"}
    assert labels["model"][0].startswith("smollm2-135m-instruct")
    qrels = pl.read_parquet(repo / "data/annotate/qrels.parquet")
    assert set(qrels["source"]) == {"llm:smollm2"} and qrels.height == n

    out = run_dvc(repo, "repro", "-f", "-s", "annotate").stdout
    forced = run_counts(repo)
    assert forced["llm_calls"] == 0 and forced["cache_hits"] == n, out
    assert pl.read_parquet(repo / "data/annotate/labels.parquet").equals(labels)
    # a cached run writes the same result files, byte for byte, as the cold run did
    assert {f: (repo / f).read_bytes() for f in cold} == cold

    set_param(repo, "annotate.max_queries", 6)
    run_dvc(repo, "repro", "annotate")
    grown = run_counts(repo)
    n6 = expected_pairs(repo, 6, 3)
    assert grown["llm_calls"] == (n6 - n) + 2 and grown["cache_hits"] == n  # 2 new queries
    agreement = json.loads((repo / "metrics/annotate.json").read_text())["agreement"]
    assert agreement["pairs"] == n6
    golden.check(repo, "metrics/annotate.json")  # growing gives the labels of a cold run

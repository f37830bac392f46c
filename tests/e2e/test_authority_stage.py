"""P1 end to end with the real SmolLM2 on the tiny profile: `dvc repro authority` writes the
table exactly as specified, with its golden values; the LLM calls match the samples, a forced
re-run of every authority stage makes 0 calls and leaves the metrics byte-identical, and the
real lists of ../shared/data run too (names only for the domain lists)."""

from __future__ import annotations

import json
from pathlib import Path

import golden
import polars as pl
import pytest
import yaml
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow

MEASURES = {"spearman", "kendall", "pair_acc", "calls_per_item", "tokens_per_item", "errors"}
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
STAGES = ("authority_truth", "authority_judge", "authority_rag", "authority")


def runs(repo: Path) -> dict[str, dict]:
    return {
        s: json.loads((repo / f"runs/data/{s}.json").read_text())  # the git-ignored run ledger
        for s in ("authority_judge", "authority_rag")
    }


def expected_calls(repo: Path, params: dict) -> tuple[int, int]:
    """(calls a fresh store needs, calls shared by the two stages) from the written samples."""
    t = {n: pl.read_parquet(repo / f"data/authority_truth/{n}.parquet") for n in
         ("benches", "items", "pairs", "lists", "rag_questions", "rag_docs")}  # fmt: skip
    total = 0
    for bench, text_label in t["benches"].select("bench", "text_label").iter_rows():
        n_items = t["items"].filter(pl.col("bench") == bench).height
        n_pairs = t["pairs"].filter(pl.col("bench") == bench).height
        n_lists = t["lists"].filter(pl.col("bench") == bench)["list_id"].n_unique()
        modes = 2 if text_label else 1
        total += modes * (2 * n_items + 6 * n_pairs + 2 * n_lists)  # point x2, pair 2+4, lists
    rag_domains = set(t["rag_docs"]["domain"])
    shared = len(
        rag_domains & set(t["items"].filter(pl.col("bench") == "world-domains")["item_id"])
    )
    total += len(rag_domains) - shared + 3 * t["rag_questions"].height
    return total, shared


@pytest.fixture(scope="module")
def repo(tiny_repo_factory, param_setter, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("authority")
    repo = tiny_repo_factory(tmp / "repo")
    param_setter(repo, "annotate.store", str(tmp / "labels.sqlite"))  # a fresh store
    run_dvc(repo, "repro", "authority")
    return repo


def test_table_rows_and_measures_are_as_specified(repo: Path):
    params = yaml.safe_load((repo / "params.yaml").read_text())["authority"]
    metrics = json.loads((repo / "metrics/authority.json").read_text())
    want = {
        f"{b}/{j}/{t}" for b in params["benches"] for j in params["judges"] for t in params["text"]
    } | {f"ragauth/{c}" for c in ("all", "judged", "oracle")}
    assert set(metrics) == want
    for row, cells in metrics.items():
        if row.startswith("ragauth/"):
            assert set(cells) == {"accuracy", "errors"}
            assert cells["errors"] == 0
            continue
        assert set(cells) == MEASURES
        assert cells["errors"] == 0  # the hf backend scores every option: no unreadable answer
        assert cells["tokens_per_item"] > 0
        if "/point/" in row:
            assert cells["calls_per_item"] == 1.0
        if "/list/" in row:
            assert cells["calls_per_item"] < 1.0  # one call per list of several items
    golden.check(repo, "metrics/authority.json")
    per_query = pl.read_parquet(repo / "data/authority/authority.per_query.parquet")
    assert set(per_query["column"]) == {"pair_acc", "accuracy"}
    rag = per_query.filter(pl.col("row") == "ragauth/all")
    assert rag["value"].mean() == pytest.approx(metrics["ragauth/all"]["accuracy"])
    md = (repo / "reports/authority.md").read_text()
    assert "Spearman with the ground truth" in md and "| ragauth/oracle |" in md
    assert "data/authority_judge" in md  # provenance names the judged labels
    assert (repo / "reports/plots/authority.png").read_bytes()[:4] == b"\x89PNG"


def test_calls_match_the_samples_and_a_forced_rerun_makes_none(repo: Path):
    params = yaml.safe_load((repo / "params.yaml").read_text())["authority"]
    total, shared = expected_calls(repo, params)
    first = runs(repo)
    assert sum(r["llm_calls"] for r in first.values()) == total
    assert sum(r["cache_hits"] for r in first.values()) == shared
    labels = pl.read_parquet(repo / "data/authority_judge/labels.parquet")
    assert labels["model"][0].startswith("smollm2-135m-instruct")
    metrics = (repo / "metrics/authority.json").read_bytes()
    out = run_dvc(repo, "repro", "-f", "authority").stdout  # every authority stage, forced
    assert all(f"Running stage '{s}'" in out for s in STAGES)
    forced = runs(repo)
    assert all(r["llm_calls"] == 0 for r in forced.values()), forced
    assert sum(r["cache_hits"] for r in forced.values()) == total + shared
    assert (repo / "metrics/authority.json").read_bytes() == metrics
    assert "Data and pipelines are up to date" in run_dvc(repo, "repro", "authority").stdout


def test_real_lists_run_names_only(repo: Path, param_setter):
    if not SHARED.is_dir():
        pytest.skip(f"the lab's shared data folder {SHARED} is absent (the test reads it only)")
    param_setter(repo, "authority.benches", ["tranco", "moz", "mace", "popqa"])
    param_setter(repo, "authority.judges", ["point/point_score", "list/permutation"])
    param_setter(repo, "authority.shared_data", str(SHARED))
    run_dvc(repo, "repro", "authority")
    metrics = json.loads((repo / "metrics/authority.json").read_text())
    rows = {r for r in metrics if not r.startswith("ragauth/")}
    assert {r.rsplit("/", 1)[1] for r in rows if r.startswith(("tranco/", "moz/", "popqa/"))} == {
        "notext"
    }
    assert "mace/point/point_score/text" in rows  # MACE facts are its page text
    assert len(rows) == 2 * (3 + 2)
    md = (repo / "reports/authority.md").read_text()
    assert "judged from names only" in md and "tranco" in md

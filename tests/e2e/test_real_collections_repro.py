"""``dvc repro evaluate`` on the hand-made BEIR folders of tests/fixtures/beir_cases (issue 19):
other grade scales, documents with empty text, unjudged queries; profile ``beir-cases``.

Each case runs fetch -> validate -> index -> evaluate in one repo copy (data.path switched per
case); the metrics must equal ir_measures on the stage's own BM25 run and the folder's qrels at
the stated ``min_rel``, the validate report must name the grade scale found.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from dvc_helpers import run_dvc

from trustir.evaluate.measures import evaluate_run
from trustir.io.beir import read_beir

pytestmark = pytest.mark.slow

CASES = "tests/fixtures/beir_cases"
#: folder, evaluate.min_rel (None: the BEIR default 1), grade range found, test queries dropped
RUNS = [
    ("grades_touche", None, (-2, 2), 0),
    ("grades_1_4", 3, (1, 4), 0),
    ("empty_docs", None, (0, 1), 0),
    ("unjudged", None, (0, 1), 1),
]


def test_real_collection_cases_through_dvc_repro_evaluate(repo_maker, param_setter, tmp_path):
    repo = repo_maker(tmp_path / "repo", profile="beir-cases")
    for folder, min_rel, (low, high), dropped in RUNS:
        param_setter(repo, "data.path", f"{CASES}/{folder}")
        param_setter(repo, "evaluate.min_rel", min_rel)
        out = run_dvc(repo, "repro", "evaluate", timeout=900)
        report = json.loads((repo / "data/validate/report.json").read_text())
        scale = report["grade_scale"]["human"]
        assert (scale["min"], scale["max"]) == (low, high), folder
        assert f"human grades {low}..{high}" in out.stdout
        tables = read_beir(repo / CASES / folder)
        corpus = pl.read_parquet(repo / "data/fetch/corpus.parquet")
        assert corpus.height == tables["corpus"].height, folder  # empty documents kept
        assert report["empty_documents"] == (2 if folder == "empty_docs" else 0)
        run = pl.read_parquet(repo / "data/index/bm25.run.parquet")
        test_ids = tables["queries"].filter(pl.col("split") == "test").select("query_id")
        qrels = tables["qrels"].join(test_ids, on="query_id", how="semi")
        measures = ["nDCG@10", "R@100", "RR@10"]
        expected, _ = evaluate_run(run, qrels, measures, min_rel if min_rel is not None else 1)
        metrics = json.loads((repo / "metrics/retrieval.json").read_text())
        for name in measures:
            assert metrics["bm25"][name] == pytest.approx(expected[name], abs=1e-5), (folder, name)
        md = out.stdout  # the stage prints its table with the notes
        assert f"{dropped} test queries without a judgment above grade 0 dropped" in md, folder
        assert f"count grade ≥ {min_rel if min_rel is not None else 1}" in md, folder

"""A params grid through DVC's experiment queue on the tiny profile (issue 18): two queued
experiments (`dvc exp run --queue -S 'index.bm25.k1=0.5,1.5'`) run by two queue workers
(`dvc queue start -j 2`), collected by `dvc exp show` and compared by `trustir compare`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dvc_helpers import run_cmd, run_dvc

pytestmark = pytest.mark.slow
GIT_ID = ["-c", "user.name=trustir tests", "-c", "user.email=tests@trustir.invalid"]
K1S = (0.5, 1.5)


def experiments(shown: Any) -> Iterator[dict]:
    """Every experiment record (name, params, metrics) in ``dvc exp show --json``'s tree."""
    if isinstance(shown, list):
        for item in shown:
            yield from experiments(item)
    elif isinstance(shown, dict):
        if shown.get("name") and isinstance(shown.get("data"), dict) and "rev" in shown:
            yield shown
        for value in shown.values():
            if isinstance(value, list | dict):
                yield from experiments(value)


def wait_for_queue(repo: Path, timeout_s: float) -> str:
    """Poll ``dvc queue status`` until nothing is queued or running; its last output."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = run_dvc(repo, "queue", "status").stdout
        if not any(word in status for word in ("Queued", "Running")):
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"dvc queue still busy after {timeout_s} s:\n{status}")
        time.sleep(3)


def test_two_queued_experiments_on_two_workers(
    tiny_repo_factory: Callable[[Path], Path], tmp_path: Path
) -> None:
    repo = tiny_repo_factory(tmp_path / "repo")
    run_dvc(repo, "repro", "evaluate", timeout=1200)  # the baseline, cached for the workers
    run_cmd(repo, "git", *GIT_ID, "add", "-A")
    run_cmd(repo, "git", *GIT_ID, "commit", "-q", "-m", "baseline: bm25 k1 0.9")

    grid = ",".join(map(str, K1S))
    queued = run_dvc(repo, "exp", "run", "--queue", "evaluate", "-S", f"index.bm25.k1={grid}")
    assert queued.stdout.count("Queued experiment") == 2, queued.stdout
    run_dvc(repo, "queue", "start", "-j", "2")
    try:
        status = wait_for_queue(repo, timeout_s=1500)
    finally:
        run_dvc(repo, "queue", "stop", "--kill", check=False)
    assert status.count("Success") == 2 and "Failed" not in status, status

    shown = json.loads(run_dvc(repo, "exp", "show", "--json").stdout)
    by_k1: dict[float, dict] = {}
    for exp in experiments(shown):
        params = exp["data"]["params"]["params.yaml"]["data"]
        metrics = exp["data"]["metrics"]["metrics/retrieval.json"]["data"]
        by_k1[params["index"]["bm25"]["k1"]] = {"name": exp["name"], "metrics": metrics}
    assert set(K1S) <= set(by_k1), by_k1.keys()
    low, high = by_k1[0.5], by_k1[1.5]
    assert low["name"] != high["name"]
    ndcg = {k1: by_k1[k1]["metrics"]["bm25"]["nDCG@10"] for k1 in K1S}
    assert ndcg[0.5] != ndcg[1.5]  # k1 changed BM25's ranking
    dense = {k1: by_k1[k1]["metrics"]["dense-minilm"]["nDCG@10"] for k1 in K1S}
    assert dense[0.5] == dense[1.5]  # and nothing else

    compare = run_cmd(
        repo,
        sys.executable,
        "-m",
        "trustir.cli",
        "compare",
        low["name"],
        high["name"],
        "--table",
        "retrieval",
    )
    out = compare.stdout
    assert low["name"] in out and high["name"] in out
    bm25 = next(line for line in out.splitlines() if line.startswith("| bm25 "))
    assert f"{ndcg[0.5]:.3f} → {ndcg[1.5]:.3f}" in bm25, bm25
    dense_row = next(line for line in out.splitlines() if line.startswith("| dense-minilm "))
    assert "(+0.000" in dense_row or "(-0.000" in dense_row or "(0.000" in dense_row, dense_row

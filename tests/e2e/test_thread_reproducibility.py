"""A fresh run reproduces the committed results (issue 20, part 2): the `index` stage, one LLM
stage (`annotate`, the real SmolLM2, each run with a cold label store) and one training stage
(`train_retriever@infonce-llm`) run with ``OMP_NUM_THREADS=1`` and with ``=2`` in two tiny
repos, and every result file they write is compared byte for byte (md5).

Scores and similarities are rounded before ranking and metrics written at 6 significant digits
(``trustir.io.stable``); per-run figures go to the git-ignored ``runs/`` ledger.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from dvc_helpers import repo_env, run_dvc

pytestmark = pytest.mark.slow

TRAIN_STAGE = "train_retriever@infonce-llm"
#: the outputs of index, annotate and the training stage (every file below them is compared)
OUTPUTS = (
    "data/index",
    "data/annotate",
    "metrics/annotate.json",
    "data/train_retriever/infonce-llm",
)


def digests(repo: Path) -> dict[str, str]:
    """md5 of every file under :data:`OUTPUTS`, by path relative to the repo."""
    out = {}
    for rel in OUTPUTS:
        top = repo / rel
        for f in sorted([top] if top.is_file() else top.rglob("*")):
            if f.is_file():
                out[f.relative_to(repo).as_posix()] = hashlib.md5(f.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def thread_runs(tiny_repo_factory, param_setter, tmp_path_factory) -> dict[str, Path]:
    """The two repos, one run with each thread count (a cold label store each)."""
    tmp = tmp_path_factory.mktemp("threads")
    repos = {}
    for threads in ("1", "2"):
        repo = tiny_repo_factory(tmp / f"omp{threads}")
        param_setter(repo, "annotate.store", str(tmp / f"labels-{threads}.sqlite"))
        env = {**repo_env(repo), "OMP_NUM_THREADS": threads}
        run_dvc(repo, "repro", TRAIN_STAGE, env=env, timeout=1800)
        repos[threads] = repo
    return repos


def test_result_files_are_byte_identical_across_thread_counts(thread_runs):
    one, two = (digests(thread_runs[t]) for t in ("1", "2"))
    assert set(one) == set(two) and len(one) > 8, sorted(one)
    differ = sorted(f for f in one if one[f] != two[f])
    print("differ:", differ)
    assert differ == []


def test_run_figures_stay_out_of_the_metrics(thread_runs):
    for repo in thread_runs.values():
        metrics = json.loads((repo / "metrics/annotate.json").read_text())
        assert set(metrics) == {"agreement", "labels"}  # no calls, cache hits or seconds
        ledger = json.loads((repo / "runs/metrics/annotate.json").read_text())
        assert ledger["llm_calls"] > 0 and ledger["cache_hits"] == 0  # a cold store each

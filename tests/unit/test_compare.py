"""`trustir compare`: cell deltas, paired tests over per-query values, reading revisions through
DVC (git for metrics, the cache for tables' data), and the errors a user meets."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from trustir.report import Table
from trustir.report.compare import compare_revisions, compare_tables, diff_markdown
from trustir.report.revision import Revision, RevisionError

QIDS = ["q1", "q2", "q3"]


def _table(values: dict[str, list[float]], name: str = "retrieval") -> Table:
    rows = [
        {"row": run, "column": "nDCG@10", "query_id": q, "value": v}
        for run, vals in values.items()
        for q, v in zip(QIDS, vals, strict=True)
    ]
    cells = {run: {"nDCG@10": sum(v) / len(v), "seconds": 1.0} for run, v in values.items()}
    hib = {"seconds": False}
    return Table(name, "First-stage retrieval", cells, hib, pl.DataFrame(rows))


def test_compare_tables_pairs_queries_and_tests_each_cell():
    a = _table({"bm25": [0.1, 0.2, 0.3], "dense": [0.5, 0.5, 0.5]})
    b = _table({"bm25": [0.2, 0.4, 0.3], "dense": [0.5, 0.5, 0.5], "new": [1.0, 1.0, 1.0]})
    diff = compare_tables(a, b, test="fisher")
    bm25 = diff.cells["bm25"]["nDCG@10"]
    assert bm25.delta == pytest.approx(0.1) and bm25.n == 3
    assert bm25.p == pytest.approx(0.5)  # exact sign-flip test, worked in test_significance
    assert diff.cells["dense"]["nDCG@10"].p == 1.0
    # a row only B has: no A value, no delta, no test; an aggregate-only column: delta, no p
    assert diff.cells["new"]["nDCG@10"].delta is None and diff.cells["new"]["nDCG@10"].p is None
    assert diff.cells["bm25"]["seconds"].delta == 0.0 and diff.cells["bm25"]["seconds"].p is None
    md = diff_markdown(diff, alpha=0.6)
    assert "| bm25 | 0.200 → 0.300 (+0.100, p=0.5)* |" in md  # p < alpha 0.6: marked
    assert "seconds ↓" in md and "| new | – → 1.000 |" in md
    assert "p=0.5)*" not in diff_markdown(diff, alpha=0.05)


def _git(repo: Path, *args: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@t.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *ident, *args], cwd=repo, check=True, capture_output=True)


def _dvc(repo: Path, *args: str) -> None:
    dvc = str(Path(sys.executable).parent / "dvc")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    subprocess.run([dvc, *args], cwd=repo, check=True, capture_output=True, env=env)


def _commit_table(repo: Path, table: Table, message: str) -> None:
    table.save(repo / "metrics", repo / "data/evaluate")
    _dvc(repo, "add", "data/evaluate")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-m", message)


@pytest.fixture
def two_commit_repo(tmp_path: Path) -> Path:
    """A git + DVC repo whose two commits hold different retrieval tables (data in DVC)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _dvc(repo, "init", "-q")
    _commit_table(repo, _table({"bm25": [0.1, 0.2, 0.3]}), "first")
    _commit_table(repo, _table({"bm25": [0.2, 0.4, 0.3]}), "second")
    shutil.rmtree(repo / "data")  # nothing checked out: compare must read through DVC
    return repo


def test_compare_revisions_reads_through_dvc(two_commit_repo: Path):
    diffs, ra, rb = compare_revisions(two_commit_repo, "HEAD~1", "HEAD", test="fisher")
    assert [d.name for d in diffs] == ["retrieval"]  # tables neither revision has are left out
    cell = diffs[0].cells["bm25"]["nDCG@10"]
    assert (cell.a, cell.b, cell.p) == (pytest.approx(0.2), pytest.approx(0.3), pytest.approx(0.5))
    assert json.loads((two_commit_repo / "metrics/retrieval.json").read_text())  # untouched


def test_compare_errors_name_the_problem(two_commit_repo: Path):
    with pytest.raises(RevisionError, match="unknown revision 'v9'"):
        compare_revisions(two_commit_repo, "v9", "HEAD")
    with pytest.raises(RevisionError, match="neither HEAD~1 nor HEAD has table 'ltr'"):
        compare_revisions(two_commit_repo, "HEAD~1", "HEAD", tables=["ltr"])
    shutil.rmtree(two_commit_repo / ".dvc/cache")  # no cache, no remote
    with pytest.raises(RevisionError, match="neither the DVC cache nor the default remote"):
        Revision(two_commit_repo, "HEAD~1").read_bytes("data/evaluate/retrieval.table.json")


def test_compare_falls_back_to_git_tracked_metrics_when_data_is_unreachable(
    two_commit_repo: Path,
):
    """A fresh clone: HEAD~1's DVC data is on no reachable machine; the workspace has its own."""
    _table({"bm25": [0.3, 0.5, 0.4]}).save(
        two_commit_repo / "metrics", two_commit_repo / "data/evaluate"
    )
    shutil.rmtree(two_commit_repo / ".dvc/cache")  # no cache, no remote
    diffs, ra, rb = compare_revisions(two_commit_repo, "HEAD~1", "workspace", test="fisher")
    (diff,) = diffs
    cell = diff.cells["bm25"]["nDCG@10"]
    assert (cell.a, cell.b) == (pytest.approx(0.2), pytest.approx(0.4)) and cell.p is None
    assert cell.ci_a is None and cell.ci_b is not None  # the workspace side keeps its interval
    assert list(ra.fallbacks) == ["retrieval"] and not rb.fallbacks
    md = diff_markdown(diff)
    assert "| bm25 | 0.200 → 0.400 (+0.200)† |" in md
    lines = [line for line in md.splitlines() if line.startswith("_† no p-values")]
    assert len(lines) == 1 and "git-tracked metrics/retrieval.json" in lines[0]
    assert "neither the DVC cache nor the default remote" in lines[0]


def test_compare_marks_cells_within_noise():
    a = _table({"bm25": [0.1, 0.5, 0.3], "dense": [0.1, 0.1, 0.1]})
    b = _table({"bm25": [0.2, 0.4, 0.4], "dense": [0.9, 0.9, 0.9]})
    diff = compare_tables(a, b, test="fisher")
    bm25, dense = diff.cells["bm25"]["nDCG@10"], diff.cells["dense"]["nDCG@10"]
    # bm25: 0.3 vs 0.333, each inside the other's interval ([0.1, 0.5] and [0.2, 0.4] wide)
    assert bm25.ci_a[0] <= bm25.b <= bm25.ci_a[1] and bm25.ci_b[0] <= bm25.a <= bm25.ci_b[1]
    assert bm25.within_noise and not dense.within_noise  # dense: [0.1, 0.1] excludes 0.9
    md = diff_markdown(diff)
    assert "(+0.033, p=1)≈ |" in md and "(+0.800, p=0.25) |" in md


def test_workspace_revision_reads_files(tmp_path: Path):
    _table({"bm25": [0.1, 0.2, 0.3]}).save(tmp_path / "metrics", tmp_path / "data/evaluate")
    ws = Revision(tmp_path, "workspace")
    assert ws.sha is None and ws.exists("metrics/retrieval.json")
    with pytest.raises(RevisionError, match="does not exist"):
        ws.read_bytes("metrics/none.json")


def test_versus_baseline_hand_worked():
    from trustir.report.versus import versus_baseline

    table = _table({"trained": [0.2, 0.4, 0.3], "untrained": [0.1, 0.2, 0.3]})
    vs = versus_baseline(table, "untrained", "nDCG@10")
    assert vs.rows == ["trained"]
    cell = vs.cells["trained"]
    assert cell["Δ nDCG@10"] == pytest.approx(0.1)
    assert cell["p (fisher)"] == pytest.approx(0.5)  # d = (0.1, 0.2, 0): worked by hand
    assert cell["p (t)"] == pytest.approx(1 - 3**0.5 / 5**0.5)  # t = sqrt(3), df 2
    with pytest.raises(ValueError, match="no per-query nDCG@10 for row 'none'"):
        versus_baseline(table, "none", "nDCG@10")

"""End to end: `dvc repro` of the tiny profile in a temp git repo whose parent has no `shared/`
(the default profile reads nothing outside the repo), its golden retrieval metrics, the no-op
re-run, broken inputs stopping the DAG with a named problem, and data.path resolution inside DVC
experiments."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import golden
import pytest
import yaml
from dvc_helpers import run_dvc

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"
#: a copy of the reproduced tiny repo leaves out its outputs and its DVC cache
NOT_COPIED = shutil.ignore_patterns("data", "metrics", "reports", "cache", "tmp")


def set_params(repo: Path, **data: object) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"].update(data)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def broken_copy(dst: Path, corpus_lines: list[str] | None = None, extra_qrel: str | None = None):
    shutil.copytree(FIXTURE, dst)
    if corpus_lines is not None:
        (dst / "corpus.jsonl").write_text("\n".join(corpus_lines) + "\n")
    if extra_qrel is not None:
        with (dst / "qrels" / "test.tsv").open("a") as fh:
            fh.write(extra_qrel + "\n")
    return dst


@pytest.fixture(scope="module")
def reproduced(tiny_reproduced: Path) -> Path:
    return tiny_reproduced


def test_repro_writes_metrics_report_and_plot(reproduced: Path):
    metrics = json.loads((reproduced / "metrics/retrieval.json").read_text())
    assert set(metrics) == {"bm25", "dense-minilm"}
    for row in metrics.values():
        assert set(row) == {"nDCG@10", "R@100", "RR@10"}
    golden.check(reproduced, "metrics/retrieval.json")
    md = (reproduced / "reports/retrieval.md").read_text()
    assert "| bm25 |" in md and "data/fetch" in md  # table and provenance
    assert (reproduced / "reports/plots/retrieval.png").read_bytes()[:4] == b"\x89PNG"
    shown = run_dvc(reproduced, "metrics", "show", "--json").stdout
    assert "nDCG@10" in shown


def outside(path: str) -> bool:
    return Path(path).is_absolute() or ".." in Path(path).parts


def test_the_tiny_repo_reads_nothing_outside_itself(reproduced: Path):
    """Issue 20: reproduced beside no `shared/`, with the lab's paths off by default; no stage
    of the lock names a dependency or output outside the repo."""
    assert not (reproduced.parent / "shared").exists()
    params = yaml.safe_load((reproduced / "params.yaml").read_text())
    assert params["ltr"]["clicks"]["yandex"] is None
    assert params["authority"]["shared_data"] is None
    lock = yaml.safe_load((reproduced / "dvc.lock").read_text())["stages"]
    paths = {
        entry["path"]
        for stage in lock.values()
        for kind in ("deps", "outs")
        for entry in stage.get(kind, [])
    }
    assert {"clicks", "authority_truth"} <= set(lock)  # the stages that read the lab's data
    assert not [p for p in paths if outside(p)]
    ltr_md = (reproduced / "reports/ltr.md").read_text()
    assert "Yandex: not evaluated (ltr.clicks.yandex is null" in ltr_md
    cm = json.loads((reproduced / "metrics/clickmodels.json").read_text())
    assert not [c for row in cm.values() for c in row if c.endswith("/yandex")]


def test_second_repro_is_a_no_op(reproduced: Path):
    out = run_dvc(reproduced, "repro").stdout
    assert "Data and pipelines are up to date" in out


@pytest.mark.parametrize(
    ("case", "expect_stage", "expect"),
    [
        ("malformed_jsonl", "fetch", "corpus.jsonl:2"),
        ("duplicate_doc", "fetch", "duplicate '_id'"),
        ("unknown_doc", "validate", "no-such-doc"),
    ],
)
def test_broken_inputs_stop_the_dag(tiny_repo: Path, tmp_path: Path, case, expect_stage, expect):
    good = (FIXTURE / "corpus.jsonl").read_text().splitlines()
    if case == "malformed_jsonl":
        folder = broken_copy(tmp_path / case, corpus_lines=[good[0], '{"_id": "x", "text": '])
    elif case == "duplicate_doc":
        folder = broken_copy(tmp_path / case, corpus_lines=[*good, good[0]])
    else:
        folder = broken_copy(tmp_path / case, extra_qrel="1\tno-such-doc\t1")
    repo = tmp_path / "repo"
    shutil.copytree(tiny_repo, repo, ignore=NOT_COPIED)
    set_params(repo, source="local", path=str(folder), name=case)
    proc = run_dvc(repo, "repro", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"trustir {expect_stage}: error" in out and expect in out, out
    assert not (repo / "data/index").exists()  # nothing downstream ran on bad data


def lab_with_shared_folder(tiny_repo: Path, tmp_path: Path) -> Path:
    """A repo copy with a BEIR folder beside it, named relative to it (as ../shared/data/...)."""
    repo = tmp_path / "lab" / "repo"
    repo.parent.mkdir()
    shutil.copytree(tiny_repo, repo, ignore=NOT_COPIED)
    shutil.copytree(FIXTURE, tmp_path / "lab" / "shared" / "tiny")
    return repo


LOCAL = ("-S", "data.source=local", "-S", "data.path=../shared/tiny", "-S", "data.name=tiny")
#: the experiments reproduce up to the retrieval table: fetch resolves data.path, evaluate
#: writes metrics/retrieval.json (the whole DAG would add minutes and test nothing more here)
TARGET = "evaluate"


def experiment_metrics(repo: Path, name: str) -> dict:
    """The metrics of experiment ``name`` in ``dvc exp show --json`` (the first node whose
    ``name`` it is), as ``{file: {row: {measure: value}}}``."""
    shown = json.loads(run_dvc(repo, "exp", "show", "--json").stdout)

    def find(node: object) -> dict | None:
        if isinstance(node, dict):
            if node.get("name") == name and isinstance(node.get("data"), dict):
                return node["data"]
            nodes = list(node.values())
        elif isinstance(node, list):
            nodes = node
        else:
            return None
        return next((d for d in map(find, nodes) if d is not None), None)

    data = find(shown)
    assert data is not None, f"no experiment {name!r} in dvc exp show"
    return {f: m.get("data", {}) for f, m in (data.get("metrics") or {}).items()}


def test_temp_experiment_resolves_relative_data_path(tiny_repo: Path, tmp_path: Path):
    repo = lab_with_shared_folder(tiny_repo, tmp_path)
    run_dvc(repo, "exp", "run", "--temp", "-n", "tiny-local", *LOCAL, TARGET)
    retrieval = experiment_metrics(repo, "tiny-local")["metrics/retrieval.json"]
    assert set(retrieval) == {"bm25", "dense-minilm"}  # scored on the folder beside the repo


def test_queued_experiment_resolves_relative_data_path(tiny_repo: Path, tmp_path: Path):
    repo = lab_with_shared_folder(tiny_repo, tmp_path)
    run_dvc(repo, "exp", "run", "--queue", "-n", "queued-local", *LOCAL, TARGET)
    run_dvc(repo, "exp", "run", "--run-all")
    retrieval = experiment_metrics(repo, "queued-local")["metrics/retrieval.json"]
    assert set(retrieval) == {"bm25", "dense-minilm"}
    failed = run_dvc(repo, "queue", "status").stdout
    assert "Failed" not in failed, failed

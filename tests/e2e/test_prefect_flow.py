"""The Prefect flow over the DVC DAG: one task per stage in DVC's order, cached re-runs reported as
"Cached", a failing stage failing the flow with its own error, and the metrics artifact."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import TaskRun
from prefect.client.schemas.sorting import TaskRunSort
from prefect.states import State

from flows.pipeline import METRICS_ARTIFACT, StageFailed, dag_stages, pipeline
from trustir.profiles import apply_profile

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"

#: a DAG of shell one-liners: a foreach stage, and a stage that fails when `fail` exists.
TOY_DVC_YAML = """\
stages:
  make:
    cmd: echo hello > a.txt
    outs:
      - a.txt
  copy:
    foreach:
      - x
      - y
    do:
      cmd: cat a.txt > b-${item}.txt
      deps:
        - a.txt
      outs:
        - b-${item}.txt
  check:
    cmd: python check.py
    deps:
      - b-x.txt
      - check.py
    outs:
      - checked.txt
  last:
    cmd: cat checked.txt > last.txt
    deps:
      - checked.txt
    outs:
      - last.txt
"""
TOY_CHECK = """\
import pathlib, sys
if pathlib.Path("fail").exists():
    sys.exit("check: b-x.txt is not what I expected")
pathlib.Path("checked.txt").write_text("ok")
"""


@dataclass
class Run:
    """One flow run: the repo, the flow's final state and its task runs, oldest first."""

    repo: Path
    state: State
    tasks: list[TaskRun]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tasks]


def run_flow(repo: Path, **kwargs: object) -> Run:
    """Run the flow on ``repo`` (returning its state, never raising) and read its task runs."""
    state = pipeline(root=str(repo), return_state=True, **kwargs)
    flow_run = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            flow_run_filter=flow_run, sort=TaskRunSort.EXPECTED_START_TIME_ASC
        )
    return Run(repo, state, tasks)


def artifact_markdown(run: Run, key: str) -> str:
    """The Markdown of artifact ``key`` created by ``run``."""
    only = ArtifactFilter(
        key=ArtifactFilterKey(any_=[key]),
        flow_run_id=ArtifactFilterFlowRunId(any_=[run.state.state_details.flow_run_id]),
    )
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(artifact_filter=only)
    return str(artifact.data)


def failure(run: Run) -> BaseException:
    err = run.state.result(raise_on_failure=False)
    assert isinstance(err, BaseException), run.state
    return err


# ------------------------------------------------------------------------ a toy DAG (seconds)


@pytest.fixture(scope="module")
def toy_repo(repo_maker: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("toy-src")
    (src / "dvc.yaml").write_text(TOY_DVC_YAML)
    (src / "check.py").write_text(TOY_CHECK)
    subprocess.run(["git", "init", "-q"], cwd=src, check=True)  # for project_files
    return repo_maker(tmp_path_factory.mktemp("toy") / "repo", profile=None, source=src)


def test_toy_dag_order_expands_foreach(toy_repo: Path) -> None:
    assert dag_stages(toy_repo) == ["make", "copy@x", "copy@y", "check", "last"]
    assert dag_stages(toy_repo, ["last", "copy"]) == ["copy@x", "copy@y", "last"]


def test_toy_flow_runs_then_caches_then_fails(prefect_harness: None, toy_repo: Path) -> None:
    first = run_flow(toy_repo)
    assert first.state.is_completed(), first.state
    assert first.names == ["make", "copy@x", "copy@y", "check", "last"]
    assert first.state.result() == dict.fromkeys(first.names, "ran")

    second = run_flow(toy_repo)
    assert [t.state.name for t in second.tasks] == ["Cached"] * 5
    assert all(t.state.is_completed() for t in second.tasks)

    (toy_repo / "fail").touch()
    third = run_flow(toy_repo, force=True)
    assert third.state.is_failed()
    assert third.names == ["make", "copy@x", "copy@y", "check"]  # "last" never ran
    assert [t.state.type.value for t in third.tasks] == ["COMPLETED"] * 3 + ["FAILED"]
    err = failure(third)
    assert isinstance(err, StageFailed) and err.stage == "check"
    assert "check: b-x.txt is not what I expected" in str(err)
    assert "b-x.txt is not what I expected" in (third.state.message or "")


# ------------------------------------------------------------------------ the real DAG, tiny


@pytest.fixture(scope="module")
def first_run(
    prefect_harness: None,
    tiny_repo_factory: Callable[[Path], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    repo = tiny_repo_factory(tmp_path_factory.mktemp("flow") / "repo")
    return run_flow(repo)


@pytest.fixture(scope="module")
def second_run(first_run: Run) -> Run:
    return run_flow(first_run.repo)


def test_first_run_runs_every_stage_in_dvc_order(first_run: Run) -> None:
    assert first_run.state.is_completed(), first_run.state
    order = dag_stages(first_run.repo)
    assert order[:2] == ["fetch", "validate"] and order[-1] == "report_html"
    assert first_run.names == order
    assert [t.state.name for t in first_run.tasks] == ["Completed"] * len(order)
    assert first_run.state.result() == dict.fromkeys(order, "ran")


def test_metrics_artifact_has_the_retrieval_table(first_run: Run) -> None:
    markdown = artifact_markdown(first_run, METRICS_ARTIFACT)
    assert "nDCG@10" in markdown and "| bm25 |" in markdown


def test_second_run_reports_every_stage_cached(first_run: Run, second_run: Run) -> None:
    assert second_run.state.is_completed(), second_run.state
    assert second_run.names == first_run.names
    assert [t.state.name for t in second_run.tasks] == ["Cached"] * len(first_run.names)
    assert all(t.state.message.startswith("cached: ") for t in second_run.tasks)
    assert set(second_run.state.result().values()) == {"cached"}
    assert "nDCG@10" in artifact_markdown(second_run, METRICS_ARTIFACT)


def test_malformed_corpus_fails_the_flow_at_fetch(
    prefect_harness: None, tiny_repo_factory: Callable[[Path], Path], tmp_path: Path
) -> None:
    folder = shutil.copytree(FIXTURE, tmp_path / "broken")
    lines = (folder / "corpus.jsonl").read_text().splitlines()
    lines[2] = '{"_id": "d3", "title": oops}'
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    repo = tiny_repo_factory(tmp_path / "repo")
    (repo / "profiles" / "broken.yaml").write_text(
        f"data:\n  source: local\n  path: {folder}\n  name: broken\n"
    )
    apply_profile(repo / "params.yaml", "broken")

    run = run_flow(repo)
    assert run.state.is_failed(), run.state
    assert run.names == ["fetch"]  # validate, index, evaluate, report never ran
    assert run.tasks[0].state.is_failed()
    err = failure(run)
    assert isinstance(err, StageFailed) and err.stage == "fetch"
    assert "trustir fetch: error" in str(err) and "corpus.jsonl:3" in str(err)
    assert "corpus.jsonl:3" in (run.state.message or "")
    assert not (repo / "data" / "validate").exists()


# ------------------------------------------------------------------------ retries (issue 18)

#: a stage that fails (exit 1, transient) until it has been tried FAILS times, and exits with
#: trustir.stage.BAD_INPUT_EXIT (3) whenever the file `bad` exists; `tries` counts its runs.
FLAKY = """\
import pathlib, sys
tries = pathlib.Path("tries")
n = int(tries.read_text()) + 1 if tries.exists() else 1
tries.write_text(str(n))
if pathlib.Path("bad").exists():
    sys.exit(3)
if n <= int(pathlib.Path("fails").read_text()):
    sys.exit("flaky: the endpoint is restarting")
pathlib.Path("out.txt").write_text(str(n))
"""
FLAKY_DVC_YAML = """\
stages:
  flaky:
    cmd: python flaky.py
    deps:
      - flaky.py
    outs:
      - out.txt
"""


@pytest.fixture
def flaky_repo(repo_maker: Callable[..., Path], tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "dvc.yaml").write_text(FLAKY_DVC_YAML)
    (src / "flaky.py").write_text(FLAKY)
    # the retries come from params.yaml's scale section unless the flow is given them
    (src / "params.yaml").write_text("scale:\n  retries: 2\n  retry_delay_s: 0\n")
    subprocess.run(["git", "init", "-q"], cwd=src, check=True)
    return repo_maker(tmp_path / "repo", profile=None, source=src)


def test_transient_failures_are_retried_from_params(
    prefect_harness: None, flaky_repo: Path
) -> None:
    (flaky_repo / "fails").write_text("2")  # fails twice, then succeeds: 3 tries of 3 allowed
    run = run_flow(flaky_repo)
    assert run.state.is_completed(), run.state
    (task_run,) = run.tasks
    assert task_run.run_count == 3 and (flaky_repo / "out.txt").read_text() == "3"


def test_transient_failures_beyond_the_retries_fail(
    prefect_harness: None, flaky_repo: Path
) -> None:
    (flaky_repo / "fails").write_text("5")
    run = run_flow(flaky_repo, retries=1, retry_delay_s=0)  # the flow's values beat params
    assert run.state.is_failed()
    assert run.tasks[0].run_count == 2 and (flaky_repo / "tries").read_text() == "2"
    err = failure(run)
    assert isinstance(err, StageFailed) and err.command_exit == 1 and err.transient


def test_bad_input_is_never_retried(prefect_harness: None, flaky_repo: Path) -> None:
    (flaky_repo / "fails").write_text("0")
    (flaky_repo / "bad").touch()
    run = run_flow(flaky_repo, retries=3, retry_delay_s=0)
    assert run.state.is_failed()
    assert run.tasks[0].run_count == 1 and (flaky_repo / "tries").read_text() == "1"
    err = failure(run)
    assert isinstance(err, StageFailed) and err.command_exit == 3 and not err.transient

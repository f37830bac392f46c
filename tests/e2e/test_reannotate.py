"""Re-annotation as a DVC experiment through Prefect: the served nightly deployment, triggered
under the test harness, runs ``dvc exp run`` and publishes the metrics before/after; with
nothing changed the flow does nothing. A toy DAG (seconds) covers the decision's cases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound

from flows.deploy import DEFAULT_CRON, deployment_parameters, full_name, parse_args
from flows.pipeline import stage_env
from flows.reannotate import ARTIFACT_KEY, reannotate
from trustir.versions.decision import NOTHING, annotation_changes
from trustir.versions.repo import default_name, experiment_rev, metrics_at

#: the DAG the served-deployment test keeps: the paper stages downstream of annotate (trained
#: retrievers...) have their own e2e tests and would make each of its experiments train models.
CORE_STAGES = ("fetch", "validate", "index", "annotate", "evaluate", "report")
GIT_ID = ["-c", "user.name=trustir tests", "-c", "user.email=tests@trustir.invalid"]
SERVED = "test-nightly"  # the deployment the test serves (not the user's "nightly-reannotate")


# ------------------------------------------------------------------------ helpers


def sh(repo: Path, *args: str) -> str:
    """Run a command in ``repo`` with the project's dvc/python (``stage_env``); its stdout."""
    proc = subprocess.run(args, cwd=repo, env=stage_env(repo), capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def commit_all(repo: Path, message: str) -> None:
    sh(repo, "git", "add", "-A")
    sh(repo, "git", *GIT_ID, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message)


def keep_stages(repo: Path, names: tuple[str, ...]) -> None:
    """Drop every stage of ``repo``'s dvc.yaml but ``names``."""
    path = repo / "dvc.yaml"
    dag = yaml.safe_load(path.read_text())
    dag["stages"] = {name: stage for name, stage in dag["stages"].items() if name in names}
    path.write_text(yaml.safe_dump(dag, sort_keys=False))


def exp_names(repo: Path) -> list[str]:
    """The experiments of HEAD, as plain ``dvc exp show --json`` lists them."""
    head = sh(repo, "git", "rev-parse", "HEAD").strip()
    shown_ = json.loads(sh(repo, "dvc", "exp", "show", "--json", "--no-fetch"))
    groups = [g for c in shown_ if c["rev"] == head for g in c.get("experiments") or []]
    return [g["name"] for g in groups]


def artifact_markdown(flow_run_id: UUID) -> str:
    only = ArtifactFilter(
        key=ArtifactFilterKey(any_=[ARTIFACT_KEY]),
        flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
    )
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(artifact_filter=only)
    return str(artifact.data)


# ------------------------------------------------------------------------ the deployment's CLI
# (the decision's and the tables' pure functions: tests/unit/test_versions.py)


def test_deploy_cli_defaults(tmp_path: Path) -> None:
    args = parse_args([])
    assert args.cron == DEFAULT_CRON == "0 3 * * *" and args.name == "nightly-reannotate"
    assert parse_args(["--cron", "*/5 * * * *", "-S", "a=1"]).set_params == ["a=1"]
    assert full_name() == "trustir-reannotate/nightly-reannotate"
    assert deployment_parameters(tmp_path) == {"root": str(tmp_path.resolve())}
    assert default_name().startswith("reannotate-")


# ------------------------------------------------------------------------ a toy DAG (seconds)

TOY_PARAMS = """\
data:
  n: 3
llm:
  model: toy
  api_key_env: TOY_KEY
annotate:
  max_queries: 2
evaluate:
  min_rel: null
  k: 10
"""
TOY_FETCH = """\
import pathlib, yaml
p = yaml.safe_load(open("params.yaml"))
pathlib.Path("data/fetch").mkdir(parents=True, exist_ok=True)
pathlib.Path("data/fetch/queries.txt").write_text(" ".join(f"q{i}" for i in range(p["data"]["n"])))
"""
TOY_ANNOTATE = """\
import json, pathlib, yaml
p = yaml.safe_load(open("params.yaml"))
qs = pathlib.Path("data/fetch/queries.txt").read_text().split()[: p["annotate"]["max_queries"]]
pathlib.Path("data/annotate").mkdir(parents=True, exist_ok=True)
pathlib.Path("data/annotate/labels.txt").write_text(" ".join(qs))
m = {"run": {"llm_calls": len(qs)}, "agreement": {"kappa": 0.1 * len(qs), "precision": None}}
pathlib.Path("metrics").mkdir(exist_ok=True)
json.dump(m, open("metrics/annotate.json", "w"))
"""
TOY_EVALUATE = """\
import json, pathlib, yaml
p = yaml.safe_load(open("params.yaml"))
pathlib.Path("metrics").mkdir(exist_ok=True)
json.dump({"bm25": {"nDCG@10": p["evaluate"]["k"] / 20}}, open("metrics/retrieval.json", "w"))
"""
TOY_DVC_YAML = """\
stages:
  fetch:
    cmd: python fetch.py
    deps:
      - fetch.py
    params:
      - data
    outs:
      - data/fetch
  annotate:
    cmd: python annotate.py
    deps:
      - annotate.py
      - data/fetch
    params:
      - llm
      - annotate
      - evaluate.min_rel
    outs:
      - data/annotate
    metrics:
      - metrics/annotate.json:
          cache: false
  evaluate:
    cmd: python evaluate.py
    deps:
      - evaluate.py
      - data/fetch
    params:
      - evaluate.k
    metrics:
      - metrics/retrieval.json:
          cache: false
"""


@pytest.fixture
def toy_repo(repo_maker: Callable[..., Path], tmp_path: Path) -> Path:
    """A toy DAG shaped like trustir's (fetch -> annotate, evaluate), run and committed."""
    src = tmp_path / "src"
    src.mkdir()
    files = {
        "params.yaml": TOY_PARAMS,
        "dvc.yaml": TOY_DVC_YAML,
        "fetch.py": TOY_FETCH,
        "annotate.py": TOY_ANNOTATE,
        "evaluate.py": TOY_EVALUATE,
        ".gitignore": "__pycache__/\n",
    }
    for name, text in files.items():
        (src / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=src, check=True)  # for project_files
    repo = repo_maker(tmp_path / "repo", profile=None, source=src)
    sh(repo, "dvc", "repro", "-q")
    commit_all(repo, "toy run")
    return repo


@pytest.mark.slow
def test_toy_decision(toy_repo: Path) -> None:
    assert annotation_changes(toy_repo).reasons == []
    assert annotation_changes(toy_repo, ["annotate.max_queries=3"]).reasons == [
        "annotate.max_queries: 2 -> 3"
    ]
    assert annotation_changes(toy_repo, ["data.n=5"]).reasons == ["fetch: data.n: 3 -> 5"]
    assert annotation_changes(toy_repo, ["evaluate.k=5"]).reasons == []  # not an input of it
    (toy_repo / "params.yaml").write_text(TOY_PARAMS.replace("model: toy", "model: toy2"))
    reasons = annotation_changes(toy_repo).reasons
    assert "llm.model: toy -> toy2" in reasons
    assert any(r.startswith("annotate: changed deps") and "llm" in r for r in reasons)


@pytest.mark.slow
def test_toy_flow_runs_once_per_change(prefect_harness: None, toy_repo: Path) -> None:
    idle = reannotate(root=str(toy_repo), return_state=True)
    assert idle.is_completed() and idle.message.startswith(NOTHING), idle
    assert idle.result() is None and exp_names(toy_repo) == []

    state = reannotate(root=str(toy_repo), set_params=["annotate.max_queries=3"], return_state=True)
    name = state.result()
    assert state.is_completed() and name.startswith("reannotate-"), state
    assert exp_names(toy_repo) == [name]
    after = metrics_at(toy_repo, experiment_rev(toy_repo, name))
    assert after["metrics/annotate.json"]["run"]["llm_calls"] == 3
    markdown = artifact_markdown(state.state_details.flow_run_id)
    assert "| run.llm_calls | 2 | 3 | +1 |" in markdown
    assert "| bm25.nDCG@10 | 0.5000 | 0.5000 | 0 |" in markdown

    # the same inputs again (the workspace holds the experiment's results): nothing new to run
    again = reannotate(root=str(toy_repo), set_params=["annotate.max_queries=3"], return_state=True)
    assert again.is_completed() and f"experiment '{name}'" in again.message, again
    assert exp_names(toy_repo) == [name]

    forced = reannotate(root=str(toy_repo), name="forced", force=True, return_state=True)
    assert forced.result() == "forced" and set(exp_names(toy_repo)) == {name, "forced"}


@pytest.mark.slow
def test_failed_experiment_fails_the_flow(prefect_harness: None, toy_repo: Path) -> None:
    (toy_repo / "annotate.py").write_text("raise SystemExit('annotate: the judge broke')\n")
    state = reannotate(root=str(toy_repo), name="broken", return_state=True)
    assert state.is_failed(), state
    assert "the judge broke" in str(state.result(raise_on_failure=False))


# ------------------------------------------------------------------------ the real DAG, tiny


@pytest.fixture(scope="module")
def committed_repo(
    tiny_repo_factory: Callable[[Path], Path],
    param_setter: Callable[..., None],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A tiny repo (:data:`CORE_STAGES`) with its own label store, reproduced once and
    committed: the baseline."""
    base = tmp_path_factory.mktemp("reannotate")
    repo = tiny_repo_factory(base / "repo")
    keep_stages(repo, CORE_STAGES)
    param_setter(repo, "annotate.store", str(base / "labels.sqlite"))
    sh(repo, "dvc", "repro", "-q")
    commit_all(repo, "tiny run")
    return repo


@pytest.fixture(scope="module")
def served(prefect_harness: None, committed_repo: Path, tmp_path_factory) -> Iterator[str]:
    """``python flows/deploy.py`` serving the deployment against the harness's server, as a
    long-running process; stopped (SIGTERM) at the end. Yields the deployment's full name."""
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
    }
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    args = [sys.executable, str(committed_repo / "flows" / "deploy.py")]
    args += ["--root", str(committed_repo), "--name", SERVED]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_deployment(full_name(SERVED), proc, log_path)
        yield full_name(SERVED)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_deployment(name: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"deploy.py exited:\n{log.read_text()}"
            try:
                client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                time.sleep(1)
    raise AssertionError(f"deployment {name} not registered in {timeout} s:\n{log.read_text()}")


@pytest.mark.slow
def test_unchanged_repo_has_nothing_to_reannotate(prefect_harness: None, committed_repo: Path):
    before = exp_names(committed_repo)
    state = reannotate(root=str(committed_repo), return_state=True)
    assert state.is_completed() and state.message.startswith(NOTHING), state
    assert exp_names(committed_repo) == before


@pytest.mark.slow
def test_served_deployment_has_the_nightly_schedule(served: str, committed_repo: Path) -> None:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(served)
    assert [s.schedule.cron for s in deployment.schedules] == [DEFAULT_CRON]
    assert deployment.parameters == {"root": str(committed_repo)}


@pytest.mark.slow
def test_triggered_run_makes_an_experiment(served: str, committed_repo: Path) -> None:
    n = yaml.safe_load((committed_repo / "params.yaml").read_text())["annotate"]["max_queries"]
    ledger = committed_repo / "runs/metrics/annotate.json"  # the run ledger (git-ignored)
    before = json.loads(ledger.read_text())  # the committed run's counts
    flow_run = run_deployment(
        name=served,
        parameters={
            "root": str(committed_repo),
            "set_params": [f"annotate.max_queries={n + 2}"],
            "name": "served-more-queries",
        },
        timeout=600,
        poll_interval=2,
        as_subflow=False,
    )
    assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
    assert "served-more-queries" in exp_names(committed_repo)

    markdown = artifact_markdown(flow_run.id)
    assert "llm_calls" in markdown and f"annotate.max_queries: {n} -> {n + 2}" in markdown
    # `trustir compare HEAD <exp>` heads the artifact: the paper tables with paired tests
    assert "# trustir compare `HEAD` vs `served-more-queries`" in markdown
    assert "## First-stage retrieval" in markdown and ", p=" in markdown
    rev = experiment_rev(committed_repo, "served-more-queries")
    # metrics hold results only; the experiment's own counts are in the run ledger
    assert "run" not in metrics_at(committed_repo, rev)["metrics/annotate.json"]
    after = json.loads(ledger.read_text())
    # the label store served the first n queries' labels: calls only for the new candidates.
    # The default judge (query likelihood with PMI) also made one empty-passage call per query
    # before: those are per-run, not labels, and are made again only for the new queries.
    assert after["cache_hits"] == before["llm_calls"] - n and after["llm_calls"] > 0
    assert f"llm_calls {after['llm_calls']}, cache_hits {after['cache_hits']}" in markdown

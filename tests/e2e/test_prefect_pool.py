"""The DAG flow as a deployment on a ``process`` work pool, against a real ``prefect server
start``: create the pool, register the deployment, start a worker, trigger a run of the tiny
DAG's retrieval path through the REST API, and check the worker ran it to Completed with its
stages and artifacts (issue 18)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prefect_server import local_prefect, prefect_env, worker

pytestmark = pytest.mark.slow

POOL = "trustir-test"
STAGES = ["fetch", "validate", "index", "evaluate"]


def api_call(api: str, path: str, body: Any | None = None) -> Any:
    """GET (no body) or POST (JSON body) ``api + path``; the decoded JSON reply."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        api + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as reply:
        return json.loads(reply.read())


def wait_final(api: str, flow_run_id: str, timeout_s: float) -> dict:
    """Poll the flow run until its state is final; the flow run."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = api_call(api, f"/flow_runs/{flow_run_id}")
        if run["state"] and run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"flow run {flow_run_id} still {run['state']} after {timeout_s} s")
        time.sleep(2)


def test_worker_runs_the_deployed_dag(
    tiny_repo_factory: Callable[[Path], Path], tmp_path: Path
) -> None:
    repo = tiny_repo_factory(tmp_path / "repo")
    home = tmp_path / "prefect"
    with local_prefect(home) as api:
        env = prefect_env(home, api)
        cli = ["prefect", "work-pool", "create", "--type", "process", POOL]
        subprocess.run(cli, env=env, check=True, capture_output=True, timeout=120)
        deploy = [sys.executable, "flows/deploy_pipeline.py", "--pool", POOL, "--root", str(repo)]
        out = subprocess.run(
            deploy, cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=180
        )
        assert "trustir-pipeline/dag" in out.stdout
        (dep,) = api_call(api, "/deployments/filter", {})
        assert dep["work_pool_name"] == POOL and dep["parameters"]["root"] == str(repo)

        params = {"stages": STAGES, "profile": "tiny", "retries": 1, "retry_delay_s": 1}
        flow_run = api_call(
            api, f"/deployments/{dep['id']}/create_flow_run", {"parameters": params}
        )
        with worker(home, api, POOL, cwd=repo):
            final = wait_final(api, flow_run["id"], timeout_s=1200)
        log = (home / f"worker-{POOL}.log").read_text()
        assert final["state"]["type"] == "COMPLETED", (final["state"], log[-3000:])
        assert final["work_pool_name"] == POOL

        tasks = api_call(
            api,
            "/task_runs/filter",
            {"flow_runs": {"id": {"any_": [flow_run["id"]]}}, "sort": "EXPECTED_START_TIME_ASC"},
        )
        assert [t["name"] for t in tasks] == STAGES
        assert all(t["state"]["type"] == "COMPLETED" for t in tasks)
        artifacts = api_call(
            api, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run["id"]]}}}
        )
        by_key = {a["key"]: a["data"] for a in artifacts}
        assert "| evaluate | ran |" in by_key["trustir-stages"]
        assert "nDCG@10" in by_key["trustir-metrics"] and "| bm25 |" in by_key["trustir-metrics"]
    assert (repo / "metrics" / "retrieval.json").is_file()

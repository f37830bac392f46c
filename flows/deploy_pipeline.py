"""Deploy the whole DAG flow (``trustir-pipeline``) on a Prefect work pool.

``python flows/deploy_pipeline.py`` registers the deployment ``trustir-pipeline/dag`` with the
server named by ``PREFECT_API_URL``, on the work pool ``--pool`` (default ``trustir``; created as
a ``process`` pool when missing), its code loaded from this repo (``flow.from_source``). Any
worker polling that pool runs it: ``prefect worker start --pool trustir``. Each run takes the
parameters ``stages`` (list, default all), ``force``, ``profile`` (a file in profiles/),
``retries`` and ``retry_delay_s`` (default: params ``scale``) and ``root`` (the repo the worker
runs DVC in; default this one). From the repo root, with the venv active::

    PREFECT_HOME=$PWD/.prefect prefect server start                       # terminal 1
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    python flows/deploy_pipeline.py                                        # once
    prefect worker start --pool trustir                                    # terminal 2
    prefect deployment run trustir-pipeline/dag -p profile=tiny -p 'stages=["evaluate"]'

A Docker or Kubernetes pool instead: README "Prefect: work pools".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

#: the repo this file belongs to: workers load ``flows/pipeline.py`` from it.
PROJECT = Path(__file__).resolve().parents[1]
DEPLOYMENT_NAME = "dag"
FLOW_NAME = "trustir-pipeline"
POOL = "trustir"
ENTRYPOINT = "flows/pipeline.py:pipeline"


def full_name(name: str = DEPLOYMENT_NAME) -> str:
    """``flow/deployment``, as ``prefect deployment run`` and ``run_deployment`` name it."""
    return f"{FLOW_NAME}/{name}"


def ensure_pool(pool: str, pool_type: str = "process") -> None:
    """``prefect work-pool create --type TYPE POOL`` unless the pool exists."""
    inspect = subprocess.run(  # noqa: S603  fixed argv, no shell
        ["prefect", "work-pool", "inspect", pool],  # noqa: S607  the venv's prefect on PATH
        capture_output=True,
        text=True,
    )
    if inspect.returncode != 0:
        create = ["prefect", "work-pool", "create", "--type", pool_type, pool]
        subprocess.run(create, check=True)  # noqa: S603, S607  fixed argv; the venv's prefect


def deploy(
    root: str | Path = PROJECT,
    pool: str = POOL,
    name: str = DEPLOYMENT_NAME,
    source: str | Path | None = None,
) -> str:
    """Register the deployment: DVC runs in ``root``, the flow's code is loaded from ``source``
    (a folder or a git URL; default ``root``). Returns the deployment's id."""
    from prefect import flow

    remote = flow.from_source(source=str(source or root), entrypoint=ENTRYPOINT)
    deployment_id = remote.deploy(
        name=name,
        work_pool_name=pool,
        parameters={"root": str(Path(root).resolve())},
        description="The DVC DAG, one task per stage (dvc repro -s STAGE)",
        tags=["trustir", "dag"],
        print_next_steps=False,
    )
    return str(deployment_id)


def main(argv: Sequence[str] | None = None) -> int:
    """Create the pool if needed and register the deployment."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", default=POOL, help=f"work pool (default {POOL!r})")
    parser.add_argument("--pool-type", default="process", help="for a new pool: process...")
    parser.add_argument("--name", default=DEPLOYMENT_NAME, help="the deployment's name")
    parser.add_argument("--root", default=str(PROJECT), help="the repo the runs reproduce")
    parser.add_argument("--source", help="where workers load the flow (default: --root)")
    args = parser.parse_args(argv)
    ensure_pool(args.pool, args.pool_type)
    deployment_id = deploy(args.root, args.pool, args.name, args.source)
    print(f"deployment {full_name(args.name)} ({deployment_id}) on work pool {args.pool!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

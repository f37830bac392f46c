"""A Prefect flow that fans shards out on Dask: ``prefect-dask``'s DaskTaskRunner (issue 18).

``fanout(function, shards, kwargs, scheduler, workers, threads_per_worker)`` runs the shard
function ``"module:function"`` (a :func:`trustir.scale.fanout.fan_out` shard function: same
contract) once per shard as a Prefect task on a Dask cluster (``scheduler``, or a LocalCluster
of ``workers`` processes), so each shard has its own task run, logs and retries in the UI.
Results come back in shard order. The DAG flow (``flows/pipeline.py``) itself runs its stages
one at a time: two ``dvc repro`` in one workspace would contend for DVC's repo lock, so the fan-
out lives inside a stage (``scale.fanout``) or in flows like this one.

    python -c 'from flows.fanout import fanout; print(fanout("trustir.scale.testing:square_sum",
                [[1, 2], [3]], workers=2))'
"""

from __future__ import annotations

import importlib
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from trustir.scale.params import FanoutParams


def load_function(dotted: str) -> Any:
    """``"package.module:function"`` -> the function."""
    module, _, name = dotted.partition(":")
    if not name:
        raise ValueError(f"shard function {dotted!r}: expected 'package.module:function'")
    return getattr(importlib.import_module(module), name)


@task(cache_policy=NO_CACHE, persist_result=False, retries=2, retry_delay_seconds=1)
def run_shard(function: str, shard: Any, kwargs: dict[str, Any]) -> Any:
    """One shard, on a Dask worker (a worker lost mid-shard: Dask reschedules it)."""
    return load_function(function)(shard, **kwargs)


def task_runner(fanout: FanoutParams) -> DaskTaskRunner:
    """A DaskTaskRunner on ``fanout.scheduler``, or on a LocalCluster of ``fanout.workers``."""
    if fanout.scheduler:
        return DaskTaskRunner(address=fanout.scheduler)
    threads = str(fanout.threads_per_worker)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": max(fanout.workers, 1),
            "threads_per_worker": fanout.threads_per_worker,
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": ":0",
            "env": {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads},
        },
    )


def fanout(
    function: str,
    shards: list[Any],
    kwargs: dict[str, Any] | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    threads_per_worker: int = 1,
) -> list[Any]:
    """Run the flow ``trustir-fanout`` with a DaskTaskRunner built from these settings."""
    params = FanoutParams(
        scheduler=scheduler, workers=workers, threads_per_worker=threads_per_worker
    )
    runner_flow = fanout_flow.with_options(task_runner=task_runner(params))
    return runner_flow(function, shards, kwargs or {})


@flow(name="trustir-fanout")
def fanout_flow(function: str, shards: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """Every shard as a task (``run_shard``), submitted to the flow's task runner at once."""
    futures = [
        run_shard.with_options(task_run_name=f"shard-{i}").submit(function, shard, kwargs)
        for i, shard in enumerate(shards)
    ]
    return [f.result() for f in futures]

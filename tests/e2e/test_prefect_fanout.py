"""The fan-out flow on prefect-dask's DaskTaskRunner (a LocalCluster of two worker processes):
one task run per shard, results in shard order and equal to the serial ones."""

from __future__ import annotations

import os

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
)

from flows.fanout import fanout
from trustir.scale.testing import square_sum

pytestmark = pytest.mark.slow


def test_dask_task_runner_fans_shards_out(prefect_harness: None) -> None:
    shards = [list(range(i, i + 5)) for i in range(0, 40, 5)]
    out = fanout("trustir.scale.testing:square_sum", shards, {"offset": 2}, workers=2)
    serial = [square_sum(s, offset=2)["value"] for s in shards]
    assert [o["value"] for o in out] == serial
    pids = {o["pid"] for o in out}
    assert os.getpid() not in pids and len(pids) == 2  # both worker processes, not this one
    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["trustir-fanout"]))
        )
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        )
    assert run.state.is_completed()
    assert sorted(t.name for t in tasks) == sorted(f"shard-{i}" for i in range(len(shards)))
    assert all(t.state.is_completed() for t in tasks)

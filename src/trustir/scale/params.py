"""The ``scale`` params section: how runs scale out (issue 18). None of it changes a result:
stages do not list it as a DVC params dependency, so changing it never re-runs a stage."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from trustir.section import Section


class FanoutParams(Section):
    """Where a stage's embarrassingly parallel work runs (``trustir.scale.fanout``)."""

    #: a Dask scheduler address (``tcp://host:8786``) to use an existing cluster; null = a
    #: LocalCluster of ``workers`` processes started for the run
    scheduler: str | None = None
    #: LocalCluster worker processes; 0 = no cluster, shards run one after the other in-process
    workers: int = Field(0, ge=0)
    #: threads per LocalCluster worker (1: torch in each worker uses one core)
    threads_per_worker: int = Field(1, gt=0)
    #: items per shard (one Dask task each)
    shard_size: int = Field(64, gt=0)


class ScaleParams(Section):
    """Retries of the Prefect pipeline's stage tasks, and the fan-out of stages' work."""

    section_name: ClassVar[str] = "scale"

    #: times a stage task is re-run after a transient failure (an endpoint restart...); a
    #: stage that exits with trustir.stage.BAD_INPUT_EXIT (bad input) is never re-run
    retries: int = Field(0, ge=0)
    #: seconds between two tries of a stage task
    retry_delay_s: float = Field(10.0, ge=0)
    fanout: FanoutParams = FanoutParams()

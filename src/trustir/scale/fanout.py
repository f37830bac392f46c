"""Fan-out of a stage's embarrassingly parallel work on a Dask cluster (issue 18).

:func:`fan_out` runs ``fn(shard, **kwargs)`` for every shard and returns the results in shard
order. Where it runs is :class:`~trustir.scale.params.FanoutParams`: with ``workers: 0`` and no
``scheduler``, in this process one shard after the other (exactly the serial code path); with
``workers: N``, on a ``dask.distributed.LocalCluster`` of N worker processes started for the
call (``threads_per_worker`` threads each, ``OMP_NUM_THREADS`` set to match, so workers do not
fight over cores); with ``scheduler: tcp://host:8786``, on that existing cluster
(``dask scheduler`` + ``dask worker`` on each machine, or dask-jobqueue / dask-kubernetes).

Dask, not Ray: the shards are plain Python functions over polars frames and a SQLite store, with
no actors or GPUs to place; Dask is a pure-Python pip install that needs no daemon (LocalCluster
in-process, one ``dask scheduler`` command for a real cluster), Prefect runs its tasks on it
through ``prefect-dask``'s DaskTaskRunner, and its scheduler reschedules the tasks of a worker
that dies (``distributed.scheduler.allowed-failures``). Ray would add a ~200 MB wheel and its own
object store and dashboard daemons for no feature used here.

Contract of a shard function, so that a rescheduled shard is neither lost nor done twice: it is
a module-level function (workers import it by name), it takes only picklable arguments (params
models, frames, paths: never an open store or a loaded model: each worker process builds its
own, cached with :func:`per_worker`), and it writes its results through the label store's
``compute_missing`` (or any store keyed by content), which commits batch by batch and computes
only the keys still missing. A worker killed mid-shard then loses only its uncommitted batch;
the rescheduled shard skips every committed key. A later fan-out (P9's per-document LoRA
adapters) plugs in the same way: one shard per document group, the adapter store as the store.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from trustir.scale.params import FanoutParams

log = logging.getLogger(__name__)

S = TypeVar("S")
R = TypeVar("R")


def enabled(fanout: FanoutParams | None) -> bool:
    """Whether ``fanout`` sends work to a Dask cluster (else it runs serially in-process)."""
    return fanout is not None and (fanout.scheduler is not None or fanout.workers > 0)


@contextlib.contextmanager
def dask_client(fanout: FanoutParams) -> Iterator[Any]:
    """A ``distributed.Client`` on ``fanout.scheduler``, or on a new LocalCluster (closed after)."""
    from distributed import Client, LocalCluster

    if fanout.scheduler:
        with Client(fanout.scheduler) as client:
            yield client
        return
    threads = str(fanout.threads_per_worker)
    cluster = LocalCluster(
        n_workers=fanout.workers,
        threads_per_worker=fanout.threads_per_worker,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # any free port: clusters side by side never clash
        env={"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads},
    )
    with cluster, Client(cluster) as client:
        yield client


def shards_of(items: Sequence[S], size: int) -> list[list[S]]:
    """``items`` cut into consecutive shards of at most ``size`` (order kept)."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def fan_out(
    fn: Callable[..., R],
    shards: Sequence[Any],
    fanout: FanoutParams | None,
    name: str = "shard",
    client: Any | None = None,
    **kwargs: Any,
) -> list[R]:
    """``[fn(shard, **kwargs) for shard in shards]``, on the cluster ``fanout`` names (or on
    ``client``, an open ``distributed.Client``); results in shard order. A shard that raises
    raises here (after the others finished or were cancelled)."""
    if client is None and not enabled(fanout):
        return [fn(shard, **kwargs) for shard in shards]
    if client is None:
        with dask_client(fanout) as own:  # type: ignore[arg-type]
            return fan_out(fn, shards, fanout, name, own, **kwargs)
    task = functools.partial(fn, **kwargs)
    call = uuid.uuid4().hex[:8]  # fresh keys: Dask would hand back a held result of a same key
    keys = [f"{name}-{call}-{i}" for i in range(len(shards))]
    futures = client.map(task, list(shards), key=keys, pure=False)
    log.info("%s: %d shards on %d Dask workers", name, len(shards), len(client.nthreads()))
    return client.gather(futures)


def per_worker(fn: Callable[..., R]) -> Callable[..., R]:
    """Memoise ``fn`` per process (per Dask worker): a model or backend loaded once per worker,
    reused by every shard it runs. Arguments must be hashable (frozen params models are)."""
    return functools.lru_cache(maxsize=4)(fn)

"""Shard functions for the fan-out tests and benchmark: module-level, so Dask workers (and
spawned processes) import them by name. They write real label-store rows."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from trustir.llm.store import LabelStore, compute_missing


def label_row(key: str, worker: str) -> dict[str, Any]:
    """A valid ``labels`` row for ``key`` (its score derived from the key, so that a row
    written twice by two processes is the same row)."""
    return {
        "key": key,
        "task": "fanout-test",
        "item_id": key,
        "score": int(key.split("-")[-1]) / 1000,
        "raw": worker,
        "status": "ok",
        "model": "none",
        "prompt_hash": "none",
    }


def write_rows(store: str, keys: list[str], batch: int, go: str) -> int:
    """Wait for the file ``go``, then put ``keys`` into a new store in batches of ``batch``
    (each its own transaction), as a second process does at the same time."""
    while not Path(go).exists():
        time.sleep(0.001)
    with LabelStore(store, timeout_s=5.0) as st:  # a short busy timeout: contention shows
        for i in range(0, len(keys), batch):
            st.put_many(label_row(k, str(os.getpid())) for k in keys[i : i + batch])
    return len(keys)


def logged_shard(keys: list[str], store: str, log: str, kill_marker: str, batch: int = 4) -> int:
    """Label ``keys`` through ``compute_missing`` (committed every ``batch``), appending each
    computed key to ``log``. The first process to run a shard while ``kill_marker`` is absent
    creates it and SIGKILLs itself just after its first committed batch: a worker dying
    mid-task. Returns how many keys this try computed."""
    computed = 0

    def compute(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
        nonlocal computed
        if computed and not Path(kill_marker).exists():
            Path(kill_marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        with open(log, "a") as fh:  # one short append per batch
            fh.write("".join(f"{k}\n" for k, _ in pairs))
        computed += len(pairs)
        return [label_row(k, str(os.getpid())) for k, _ in pairs]

    with LabelStore(store) as st:
        compute_missing(st, {k: k for k in keys}, compute, flush_every=batch)
    return computed


def square_sum(shard: list[int], offset: int = 0) -> dict[str, int]:
    """A shard's sum of squares (plus ``offset``) and the worker process that computed it."""
    return {"value": sum(x * x for x in shard) + offset, "pid": os.getpid()}

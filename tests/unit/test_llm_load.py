"""Load (issue 19): 2,000 bounded, concurrent requests from the ``openai`` backend to two
``serve-llm`` processes on loopback that fail 10% of requests (429/500): every label is
accounted for (ok + error = requested, nothing lost or duplicated) and memory stays flat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.unit.test_llm_serving import TerseJudge, pairs
from trustir.annotate.run import AnnotationErrors, judge_pairs
from trustir.llm.backends.openai import OpenAIBackend
from trustir.llm.store import LabelStore
from trustir.llm.testing import Replica, build_tiny_model, rss_mb

N_REQUESTS = 2000
WARM_UP = 400  # requests before the memory baseline (thread pools, sessions, allocator)


@pytest.mark.slow  # two serve-llm processes and 2,000 requests: ~2-4 min on the shared cores
def test_2000_requests_with_injected_failures_lose_no_label_and_memory_stays_flat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    model = build_tiny_model(tmp_path / "model")
    faults = "fail=0.1,status=429:500,retry_after=0,seed={}"
    df = pairs(N_REQUESTS, tag=" load")  # one request per pair (its 4 options in one batch)
    with (
        Replica(model, faults=faults.format(1)) as a,
        Replica(model, faults=faults.format(2)) as b,
        LabelStore(tmp_path / "labels.sqlite", flush_every=100) as store,
    ):
        backend = OpenAIBackend(
            [a.url, b.url], "tiny", score_mode="completions", batch_size=4, concurrency=4,
            max_retries=1, backoff_s=0.0, timeout_s=30.0,
        )  # fmt: skip
        rss: list[tuple[float, float, float]] = []  # (client, replica a, replica b) MiB
        failed = 0
        t0 = time.perf_counter()
        for lo, hi in [(0, WARM_UP), (WARM_UP, 1200), (1200, N_REQUESTS)]:
            try:
                judge_pairs(TerseJudge(), backend, store, df[lo:hi], flush_every=100,
                            show_progress=False)  # fmt: skip
            except AnnotationErrors as exc:  # the requests that failed twice (try + 1 retry)
                failed += int(str(exc).split(" of ")[0])
            rss.append((rss_mb(), a.rss_mb(), b.rss_mb()))
        seconds = time.perf_counter() - t0
        seen = a.stats()["requests"] + b.stats()["requests"]
        injected = a.stats()["failed"] + b.stats()["failed"]
        frame = store.frame()
    counts = dict(frame["status"].value_counts().iter_rows())
    assert frame.height == N_REQUESTS and frame["key"].n_unique() == N_REQUESTS  # none lost/dup
    assert counts.get("ok", 0) + counts.get("error", 0) == N_REQUESTS
    assert counts.get("error", 0) == failed  # every error row is a request that failed for good
    assert seen == N_REQUESTS + backend.usage.retries  # each try reached a server, none more
    assert 0.07 < injected / seen < 0.13  # the injected share held (10%, seeded draws)
    assert counts.get("error", 0) < 0.03 * N_REQUESTS  # a retry rescued most (expected ~1%)
    assert max(e.peak for e in backend.pool.endpoints) <= 4  # the per-endpoint bound held
    print(
        f"\nload: {N_REQUESTS} requested, {seen} sent in {seconds:.0f} s "
        f"({injected} injected failures = {injected / seen:.1%}), "
        f"ok {counts.get('ok', 0)}, error {counts.get('error', 0)}; RSS MiB after "
        f"{WARM_UP}/1200/{N_REQUESTS} requests: client {[round(r[0]) for r in rss]}, "
        f"replicas {[round(r[1]) for r in rss]}, {[round(r[2]) for r in rss]}"
    )
    growth = [rss[-1][k] - rss[0][k] for k in range(3)]  # the 1,600 requests after warm-up
    assert all(g < 25 for g in growth), f"RSS grew {growth} MiB (client, replicas)"

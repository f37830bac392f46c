"""Serving and faults, against real ``trustir serve-llm`` servers on loopback (issues 18, 19).

Several replicas behind one ``openai`` backend (spread, bounded, failover when one dies); the
endpoint down at start, dying mid-stage, flaky (429/500 with Retry-After), slow beyond the
timeout: each retried within limits, recorded as error rows, and resumed on the next run with the
finished labels kept. The servers misbehave through their own ``--faults`` option (real HTTP):
in a thread over one loaded tiny model (fast), or as real processes (``Replica``, marked slow:
each start loads torch) where a process must die.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from trustir.annotate.judges.relevance import GradedRelevance
from trustir.annotate.run import AnnotationErrors, judge_pairs
from trustir.llm.backends.hf import HFBackend
from trustir.llm.backends.openai import OpenAIBackend
from trustir.llm.base import LLMHTTPError, LLMTimeoutError
from trustir.llm.server import serving
from trustir.llm.store import LabelStore
from trustir.llm.testing import Replica, build_tiny_model

FAST = {"timeout_s": 10.0, "max_retries": 3, "backoff_s": 0.01, "cooldown_s": 0.5}


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def pairs(n: int, tag: str = "") -> pl.DataFrame:
    """``n`` distinct (query, document) pairs, a few queries with several documents each."""
    return pl.DataFrame(
        {
            "query_id": [f"q{i // 4}" for i in range(n)],
            "doc_id": [f"d{i}" for i in range(n)],
            "query": [f"how long is river {i // 4}{tag}" for i in range(n)],
            "doc": [f"River {i // 4} flows {i} km through valley {i % 7}." for i in range(n)],
        }
    )


class TerseJudge(GradedRelevance):
    """The graded judge's options and reading with a one-line raw prompt: a request then costs
    the tiny model ~10 positions instead of ~170 (the chat template and rater instructions)."""

    name = "terse-relevance"

    def prompt(self, query: str, doc: str, strict: bool = False) -> str:  # type: ignore[override]
        return f"{query} | {doc} | grade:"


def client(urls: list[str] | str, model_dir: Path, **kw: object) -> OpenAIBackend:
    """Completions scoring of raw prompts, one prompt (its 4 options) per request."""
    opts = {**FAST, **kw}
    return OpenAIBackend(urls, "tiny", score_mode="completions", batch_size=4, **opts)  # type: ignore[arg-type]


def judge(backend: OpenAIBackend, store: LabelStore, df: pl.DataFrame) -> pl.DataFrame:
    return judge_pairs(TerseJudge(), backend, store, df, flush_every=8, show_progress=False)


def statuses(store: LabelStore) -> dict[str, int]:
    return dict(store.frame()["status"].value_counts().iter_rows())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tiny(model_dir: Path) -> HFBackend:
    return HFBackend(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def healthy(tiny: HFBackend) -> Iterator[list[str]]:
    """Two well-behaved in-thread replicas shared by the tests that need no faults."""
    with serving(tiny) as a, serving(tiny) as b:
        yield [a, b]


def served(url: str) -> int:
    """Requests a server has seen (its ``/stats``)."""
    import requests

    return requests.get(f"{url}/stats", timeout=5).json()["faults"]["requests"]


# ---- spreading and bounding ------------------------------------------------------------------
def test_requests_spread_over_replicas_within_the_per_endpoint_bound(
    model_dir: Path, healthy: list[str], tmp_path: Path
) -> None:
    before = [served(u) for u in healthy]
    backend = client(healthy, model_dir, concurrency=2)
    with LabelStore(tmp_path / "l.sqlite") as store:
        out = judge(backend, store, pairs(24))
    sent = [served(u) - b for u, b in zip(healthy, before, strict=True)]
    assert out["status"].to_list() == ["ok"] * 24
    assert sum(sent) == 24 and min(sent) >= 6  # one request per pair, both replicas used
    peaks = [e.peak for e in backend.pool.endpoints]
    assert max(peaks) <= 2 and backend.usage.retries == 0  # never above the bound


@pytest.mark.slow  # three serve-llm processes (each loads torch: ~20 s on the shared cores)
def test_replica_process_dying_mid_run_fails_over_and_loses_no_label(
    model_dir: Path, tmp_path: Path
) -> None:
    with (
        Replica(model_dir, faults="exit_after=10") as dying,
        Replica(model_dir) as a,
        Replica(model_dir) as b,
    ):
        urls = [dying.url, a.url, b.url]
        backend = client(urls, model_dir, concurrency=2)
        with LabelStore(tmp_path / "l.sqlite") as store:
            out = judge(backend, store, pairs(60))
            assert len(store) == 60
        assert dying.proc.wait(10) == 3  # the process really exited (os._exit)
    assert out["status"].to_list() == ["ok"] * 60  # the others took over every request
    assert backend.usage.retries >= 1


def test_a_replica_down_at_start_is_skipped(
    model_dir: Path, healthy: list[str], tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    backend = client([dead, healthy[0]], model_dir)
    with LabelStore(tmp_path / "l.sqlite") as store:
        out = judge(backend, store, pairs(16))
    assert out["status"].to_list() == ["ok"] * 16
    assert backend.pool.endpoints[0].served == 0 and backend.usage.retries <= 8


# ---- faults of the only endpoint: error rows now, resumed next run ---------------------------
def test_endpoint_down_at_start_records_errors_then_resumes(
    model_dir: Path, tiny: HFBackend, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    df = pairs(12)
    with LabelStore(tmp_path / "l.sqlite") as store:
        t0 = time.perf_counter()
        with pytest.raises(AnnotationErrors, match="12 of 12 items failed"):
            judge(client(url, model_dir, max_retries=2), store, df)
        assert time.perf_counter() - t0 < 20  # bounded retries, not a hang
        assert statuses(store) == {"error": 12}
        assert "cannot reach" in store.frame()["raw"][0]
        with serving(tiny, port=port) as up:
            out = judge(client(up, model_dir), store, df)
            assert served(up) == 12  # exactly the missing ones
    assert out["status"].to_list() == ["ok"] * 12


def test_endpoint_dying_mid_stage_keeps_finished_labels_and_resumes(
    model_dir: Path, tiny: HFBackend, tmp_path: Path
) -> None:
    df = pairs(40)
    port = free_port()
    with LabelStore(tmp_path / "l.sqlite") as store:
        with (
            serving(tiny, port=port, faults="exit_after=17") as dying,
            pytest.raises(AnnotationErrors),
        ):
            judge(client(dying, model_dir, max_retries=1), store, df)
        first = statuses(store)
        assert first == {"ok": 17, "error": 23}  # the 17 answered; every label accounted
        done = set(store.frame().filter(pl.col("status") == "ok")["key"])
        with serving(tiny, port=port) as back:
            out = judge(client(back, model_dir), store, df)
            assert served(back) == first["error"]  # only the missing ones
        kept = store.frame().filter(pl.col("key").is_in(list(done)))
        assert kept["status"].to_list() == ["ok"] * len(done)
    assert out["status"].to_list() == ["ok"] * 40


def test_flaky_429_500_are_retried_and_retry_after_is_honoured(
    model_dir: Path, tiny: HFBackend, tmp_path: Path
) -> None:
    import requests

    with serving(tiny, faults="fail=0.3,status=429:500,retry_after=0.05,seed=1") as flaky:
        backend = client(flaky, model_dir, max_retries=6)
        with LabelStore(tmp_path / "l.sqlite") as store:
            out = judge(backend, store, pairs(30))
        stats = requests.get(f"{flaky}/stats", timeout=5).json()["faults"]
    assert out["status"].to_list() == ["ok"] * 30
    assert stats["failed"] >= 5 and backend.usage.retries == stats["failed"]
    with serving(tiny, faults="fail=1,status=429,retry_after=0.4") as busy:
        backend = client(busy, model_dir, max_retries=2, backoff_s=0.0)
        t0 = time.perf_counter()
        with pytest.raises(LLMHTTPError, match="HTTP 429.*gave up after 3 tries"):
            backend.score(["q"], ["0", "1"])
        waited = time.perf_counter() - t0
    assert waited >= 0.8  # two waits of Retry-After 0.4 s (back-off alone would be 0 s)


def test_slow_endpoint_times_out_within_limits_then_resumes(
    model_dir: Path, tiny: HFBackend, tmp_path: Path
) -> None:
    df = pairs(6)
    with LabelStore(tmp_path / "l.sqlite") as store:
        with serving(tiny, faults="delay=3") as slow:
            backend = client(slow, model_dir, timeout_s=0.5, max_retries=1, concurrency=6)
            t0 = time.perf_counter()
            with pytest.raises(AnnotationErrors, match="6 of 6"):
                judge(backend, store, df)
            assert time.perf_counter() - t0 < 8  # 2 tries x 0.5 s each (+ cool-down), not 6x3 s
            with pytest.raises(LLMTimeoutError, match="no answer within 0.5 s"):
                backend.score(["q"], ["0"])
        assert statuses(store) == {"error": 6}
        with serving(tiny) as fast:
            out = judge(client(fast, model_dir), store, df)
    assert out["status"].to_list() == ["ok"] * 6


# ---- the default judge's path over HTTP ------------------------------------------------------
def test_continuation_logprobs_over_http_equal_the_local_model(
    model_dir: Path, tiny: HFBackend, healthy: list[str]
) -> None:
    import numpy as np

    prompts = ["Passage: The Elbe is 1094 km long.\nQuestion:", "Passage: Bread.\nQuestion:"]
    conts = [" how long is the elbe", " what is sourdough bread made of"]
    remote = client(healthy, model_dir).continuation_logprobs(prompts, conts, chat=False)
    local = tiny.continuation_logprobs(prompts, conts, chat=False)
    for r, lo in zip(remote, local, strict=True):
        assert r.shape == lo.shape and r.size >= 4  # one log-prob per query token
        np.testing.assert_allclose(r, lo, atol=1e-4)

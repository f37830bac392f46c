"""Ledger counts (calls, cache hits, tokens, seconds) from a backend's usage; typed llm params."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from trustir.llm.base import Usage
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.ledger import Ledger, read_ledger


class FakeBackend:
    model_id = "fake@1"

    def __init__(self) -> None:
        self.usage = Usage()

    def score(self, n: int) -> None:
        time.sleep(0.01)
        self.usage.add(calls=n, tokens_in=90 * n, tokens_computed=40 * n)


def test_track_records_the_backend_usage_delta_and_time() -> None:
    backend = FakeBackend()
    backend.score(5)  # before the run: not counted
    ledger = Ledger(run="annotate")
    with ledger.track(backend):
        backend.score(3)
        backend.score(2)
    ledger.add(cache_hits=7, errors=1)
    d = ledger.to_dict()
    assert (d["calls"], d["tokens_in"], d["tokens_out"], d["cache_hits"]) == (5, 450, 0, 7)
    assert d["model"] == "fake@1" and d["errors"] == 1 and d["seconds"] >= 0.02
    assert ledger.to_metrics() == {
        "llm_calls": 5,
        "cache_hits": 7,
        "tokens_in": 450,
        "tokens_out": 0,
        "seconds": d["seconds"],
    }
    json.dumps(d)  # JSON-able
    with pytest.raises(KeyError, match="no counter 'tokens'"):
        ledger.add(tokens=1)


def test_append_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    Ledger(run="a", calls=3).append(path)
    Ledger(run="b", cache_hits=4).append(path)
    with path.open("a") as fh:
        fh.write('{"run": "torn')  # a writer killed mid-line
    runs = read_ledger(path)
    assert [(r["run"], r["calls"], r["cache_hits"]) for r in runs] == [("a", 3, 0), ("b", 0, 4)]
    assert all("created_at" in r for r in runs)


def test_llm_params_are_typed() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        LLMParams(modle="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="needs base_url"):
        LLMParams(backend="openai")
    with pytest.raises(ValidationError):
        LLMParams(top_logprobs=50)
    p = LLMParams(backend="openai", base_url="http://127.0.0.1:9/v1", model="m", api_key_env="K")
    assert "K" in p.model_dump_json() and hash(p) == hash(p.model_copy())


def test_make_backend_shares_one_object_per_params(monkeypatch: pytest.MonkeyPatch) -> None:
    p = LLMParams(backend="openai", base_url="http://127.0.0.1:9/v1", model="m")
    assert make_backend(p) is make_backend(p.model_copy())
    assert make_backend(p, cached=False) is not make_backend(p)
    assert type(make_backend(p)).__name__ == "OpenAIBackend"

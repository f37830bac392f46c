"""Secrets on the wire (issue 19): a Bearer key never goes over plain HTTP beyond loopback unless
a param allows it; ``serve-llm`` bound beyond loopback warns, and with a token it answers 401 to
a request without it (real HTTP on loopback)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from trustir.llm.backends._key_policy import is_loopback
from trustir.llm.backends.hf import HFBackend
from trustir.llm.backends.openai import OpenAIBackend
from trustir.llm.base import LLMError, LLMHTTPError
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.server import make_server, serving
from trustir.llm.testing import build_tiny_model

KEY_ENV = "TRUSTIR_TEST_SECURITY_KEY"
KEY = "sk-sentinel-7f3a9c1e-DO-NOT-LEAK"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv(KEY_ENV, KEY)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> HFBackend:
    return HFBackend(str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")), device="cpu")


@pytest.fixture(scope="module")
def guarded(tiny: HFBackend) -> Iterator[str]:
    with serving(tiny, token=KEY) as url:
        yield url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("10.0.0.5", False), ("0.0.0.0", False), ("llm.lab.example", False),  # noqa: S104
     ("localhost.evil.example", False)],
)  # fmt: skip
def test_loopback_is_recognised_without_dns(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_key_is_refused_over_plain_http_beyond_loopback() -> None:
    url = "http://10.1.2.3:8000/v1"
    with pytest.raises(LLMError, match=r"plain HTTP to http://10\.1\.2\.3.*allow_plain_http_key"):
        OpenAIBackend(url, "m", api_key_env=KEY_ENV)
    with pytest.raises(LLMError, match="plain HTTP"):  # one bad replica in a list is enough
        OpenAIBackend(["https://a.example/v1", url], "m", api_key_env=KEY_ENV)
    params = LLMParams(backend="openai", base_url=url, api_key_env=KEY_ENV)
    with pytest.raises(LLMError, match="plain HTTP"):
        make_backend(params, cached=False)
    # allowed: https anywhere, http on loopback, http without a key, or the explicit param
    OpenAIBackend("https://10.1.2.3/v1", "m", api_key_env=KEY_ENV)
    OpenAIBackend("http://localhost:8000/v1", "m", api_key_env=KEY_ENV)
    OpenAIBackend(url, "m")
    OpenAIBackend(url, "m", api_key_env=KEY_ENV, allow_plain_http_key=True)


def test_serve_llm_with_a_token_answers_401_without_it(tiny: HFBackend, guarded: str) -> None:
    assert requests.get(f"{guarded.removesuffix('/v1')}/health", timeout=5).status_code == 200
    assert requests.get(f"{guarded}/models", timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer sk-wrong"}
    r = requests.post(f"{guarded}/completions", json={"prompt": "hi"}, headers=wrong, timeout=5)
    assert r.status_code == 401 and KEY not in r.text
    anonymous = OpenAIBackend(guarded, "tiny", score_mode="completions", max_retries=3)
    with pytest.raises(LLMHTTPError, match="HTTP 401") as info:
        anonymous.score(["hi"], ["0", "1"])
    assert info.value.status == 401 and anonymous.usage.retries == 0  # a 4xx is never retried
    keyed = OpenAIBackend(guarded, "tiny", score_mode="completions", api_key_env=KEY_ENV)
    assert keyed.score(["hi"], ["0", "1"]).shape == (1, 2)
    assert KEY not in repr(keyed) and KEY not in str(keyed.describe())


def test_serve_llm_beyond_loopback_warns(tiny: HFBackend, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trustir.llm.server"):
        server = make_server(tiny, "0.0.0.0", 0)  # noqa: S104 (the case under test)
        server.server_close()
    assert (
        "reachable from other machines" in caplog.text and "TRUSTIR_SERVE_LLM_TOKEN" in caplog.text
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="trustir.llm.server"):
        make_server(tiny, "127.0.0.1", 0).server_close()
        make_server(tiny, "0.0.0.0", 0, token=KEY).server_close()  # noqa: S104
    assert "TRUSTIR_SERVE_LLM_TOKEN" not in caplog.text  # token set: warned, without the hint
    assert KEY not in caplog.text

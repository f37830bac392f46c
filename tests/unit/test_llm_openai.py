"""openai backend against real loopback HTTP servers: trustir serve-llm over a tiny model, a flaky
server (429/500, then 400), a hanging one, a closed port; the API key stays out of every message."""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
import requests

from trustir.llm.backends.hf import HFBackend
from trustir.llm.backends.openai import OpenAIBackend
from trustir.llm.base import LLMConnectionError, LLMError, LLMHTTPError, LLMTimeoutError
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.server import serving
from trustir.llm.testing import build_tiny_model

KEY_ENV = "TRUSTIR_TEST_LLM_KEY"
KEY = "sk-test-0123456789abcdef-SECRET"
PROMPTS = [
    [
        {"role": "system", "content": "Grade relevance 0-3."},
        {"role": "user", "content": "Query: elbe length\nDocument: The Elbe is 1094 km long."},
    ],
    "Is Paris in France? Answer Yes or No.",
]
OPTIONS = ["0", "3", "10", "Yes"]
FAST = {"timeout_s": 5.0, "max_retries": 3, "backoff_s": 0.01}


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> HFBackend:
    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    return HFBackend(str(path), device="cpu")


@pytest.fixture(scope="module")
def served(tiny: HFBackend) -> Iterator[str]:
    with serving(tiny) as url:
        yield url


# ---- against trustir serve-llm ---------------------------------------------------------------
def test_completions_scores_equal_direct_hf_scores(tiny: HFBackend, served: str) -> None:
    client = OpenAIBackend(served, "tiny", tokenizer=str(tiny.model.name_or_path), **FAST)
    got = client.score(PROMPTS, OPTIONS)  # echo + logprobs, chat template rendered client-side
    np.testing.assert_allclose(got, tiny.score(PROMPTS, OPTIONS), atol=1e-4, rtol=0)
    assert client.usage.calls == 2 and client.usage.tokens_in > 0


def test_continuation_logprobs_equal_direct_hf(tiny: HFBackend, served: str) -> None:
    """The query-likelihood path over HTTP: echoed per-token log-probs of the continuation, plain
    and chat-templated prompts, equal the hf backend's teacher-forced ones (issue 13)."""
    client = OpenAIBackend(
        served, "tiny", tokenizer=str(tiny.model.name_or_path), batch_size=2, **FAST
    )
    plain = ["Passage: The Elbe flows to Hamburg.\nQuestion:", "Passage: Paris.\nQuestion:"]
    conts = [" where does the elbe flow", " what is the capital of france"]
    for prompts, chat in (
        (plain, False),
        ([[{"role": "user", "content": p}] for p in plain], True),
    ):
        got = client.continuation_logprobs(prompts, conts, chat=chat)
        want = tiny.continuation_logprobs(prompts, conts, chat=chat)
        for g, w in zip(got, want, strict=True):
            assert g.shape == w.shape and g.shape[0] > 3  # one value per continuation token
            np.testing.assert_allclose(g, w, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="plain"):
        client.continuation_logprobs([[{"role": "user", "content": "x"}]], ["y"], chat=False)


def test_chat_scores_read_top_logprobs(tiny: HFBackend, served: str) -> None:
    # options = the model's own 3 likeliest first tokens (so they are among the top 20) + one not
    gens, _ = tiny.generate_ids(tiny.render(PROMPTS[0]), max_new_tokens=1, top_k=3)
    likely = [tiny.tokenizer.decode([t]) for t, _ in gens[0].top[0]]
    client = make_backend(
        LLMParams(backend="openai", base_url=served, model="tiny", score_mode="chat", **FAST),
        cached=False,
    )
    got = client.score(PROMPTS[:1], [*likely, "zzzzqqq"])
    want = tiny.score(PROMPTS[:1], likely)
    np.testing.assert_allclose(got[0, :3], want[0], atol=1e-4)
    assert got[0, 3] == -np.inf  # not among the alternatives


def test_generate_returns_texts_with_logprobs(tiny: HFBackend, served: str) -> None:
    client = OpenAIBackend(served, "tiny", **FAST)
    gens = client.generate(PROMPTS[0], n=2, temperature=1.0, max_new_tokens=5, seed=7)
    local = tiny.generate(PROMPTS[0], n=2, temperature=1.0, max_new_tokens=5, seed=7)
    assert [g.text for g in gens] == [g.text for g in local]
    for g, h in zip(gens, local, strict=True):
        assert g.tokens == h.tokens and g.tokens_out == len(g.token_logprobs) > 0
        np.testing.assert_allclose(g.token_logprobs, h.token_logprobs, atol=1e-4)
        assert g.tokens_in == tiny.count_tokens(PROMPTS[0])


def test_server_lists_model_and_rejects_bad_requests(tiny: HFBackend, served: str) -> None:
    assert requests.get(f"{served}/models", timeout=5).json()["data"][0]["id"] == tiny.model_id
    r = requests.post(f"{served}/completions", json={"prompt": "hi", "n": "x"}, timeout=5)
    assert r.status_code == 400 and "'n' must be an integer" in r.json()["error"]["message"]
    client = OpenAIBackend(served, "tiny", **FAST)
    with pytest.raises(LLMHTTPError, match="temperature") as info:
        client.generate("hi", temperature=5.0)
    assert info.value.status == 400 and client.usage.retries == 0


# ---- scripted servers ------------------------------------------------------------------------
CHAT_OK = {
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Yes"},
            "logprobs": {
                "content": [
                    {
                        "token": "Yes",
                        "logprob": -0.25,
                        "top_logprobs": [
                            {"token": "Yes", "logprob": -0.25},
                            {"token": "No", "logprob": -1.5},
                        ],
                    }
                ]
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 11, "completion_tokens": 1},
}


@dataclass
class Script:
    """What a fake endpoint answers, in order: an int status, "hang", a dict (a 200 body), or
    "ok" (the default)."""

    steps: list[Any] = field(default_factory=list)
    hits: int = 0
    auth: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def fake() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            script.hits += 1
            script.auth.append(self.headers.get("Authorization"))
            step = script.steps.pop(0) if script.steps else "ok"
            if step == "hang":
                script.release.wait(10)
                return
            if isinstance(step, dict):  # a canned 200 body
                status, body = 200, step
            else:
                status, body = (
                    (200, CHAT_OK)
                    if step == "ok"
                    else (step, {"error": {"message": (f"failure {step}; your key was {KEY}")}})
                )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        script.release.set()
        server.shutdown()
        server.server_close()


def test_429_and_500_are_retried_until_success(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.steps = [429, 500, 503]
    client = OpenAIBackend(url, "m", score_mode="chat", **FAST)
    s = client.score(["q"], ["Yes", "No", "Maybe"])
    np.testing.assert_allclose(s, [[-0.25, -1.5, -np.inf]])
    assert script.hits == 4 and client.usage.retries == 3


def test_a_reply_without_content_is_a_failed_call_not_an_empty_answer(
    fake: tuple[str, Script],
) -> None:
    url, script = fake
    no_text = {"choices": [{"index": 0, "message": {"role": "assistant", "content": None},
                            "finish_reason": "content_filter"}]}  # fmt: skip
    empty = {"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}}]}
    script.steps = [no_text, empty]
    client = OpenAIBackend(url, "m", **FAST)
    with pytest.raises(LLMError, match="choice 0 has no message content.*content_filter"):
        client.generate("q")
    assert client.generate("q")[0].text == ""  # an empty reply is the model's answer


def test_a_listed_token_without_logprob_is_nan_and_no_label(fake: tuple[str, Script]) -> None:
    from trustir.annotate.base import get_judge

    url, script = fake
    step = {
        "token": "No",
        "logprob": -1.0,
        "top_logprobs": [{"token": "Yes", "logprob": None}, {"token": "No", "logprob": -1.0}],
    }
    script.steps = [{"choices": [{"index": 0, "logprobs": {"content": [step]}}]}]  # fmt: skip
    s = OpenAIBackend(url, "m", score_mode="chat", **FAST).score(["q"], ["Yes", "No"])
    assert np.isnan(s[0, 0]) and s[0, 1] == -1.0
    v = get_judge("relevance-binary").from_logprobs(s[0])  # not P(no) = 1: no reading at all
    assert (v.label, v.score, v.status) == (None, None, "error") and "NaN" in v.raw


def test_continuation_found_from_the_end_when_offsets_skip_special_tokens(
    fake: tuple[str, Script],
) -> None:
    """llama-cpp-python 0.3.36's echo: text_offset from a detokenisation without special tokens
    (here 12 characters short: "<|im_start|>" renders empty), BOS stripped, one generated token.
    The continuation's tokens are found from the end; offsets alone would pick wrong ones."""
    url, script = fake
    prompt = "<|im_start|>user\nPassage<|im_end|>\n<|im_start|>assistant\n"
    cont = "elbe length"
    tokens = ["user", "\n", "Passage", "", "\n", "", "assistant", "\n", "el", "be", " length", "?"]
    lps = [None, -1.0, -2.0, -0.1, -0.2, -0.3, -0.4, -0.5, -3.0, -0.25, -1.5, -9.0]
    offsets, pos = [], 0
    for t in tokens:  # cumulative lengths of the rendered pieces, as the server computes them
        offsets.append(pos)
        pos += len(t)
    logprobs = {"tokens": tokens, "token_logprobs": lps, "text_offset": offsets}
    body = {"index": 0, "text": prompt + cont + "?", "logprobs": logprobs}
    script.steps = [{"choices": [body]}, {"choices": [{**body, "text": prompt + cont}]}]
    client = OpenAIBackend(url, "m", **FAST)
    got = client.continuation_logprobs([prompt], [cont], chat=False)[0]
    np.testing.assert_array_equal(got, [-3.0, -0.25, -1.5])
    with pytest.raises(LLMError, match="not echoed back"):  # the offsets point past the tokens
        client._span_logprobs(logprobs, len(prompt), len(cont))
    # tokens that do not spell prompt + reply from the end: no guess, the offsets' error
    with pytest.raises(LLMError, match="not echoed back"):
        client.continuation_logprobs([prompt], [cont], chat=False)


def test_retries_are_bounded(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.steps = [500] * 10
    client = OpenAIBackend(url, "m", timeout_s=5.0, max_retries=2, backoff_s=0.01)
    with pytest.raises(LLMHTTPError, match=r"HTTP 500.*gave up after 3 tries") as info:
        client.generate("q")
    assert info.value.status == 500 and script.hits == 3


def test_400_is_not_retried_and_says_why(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.steps = [400]
    client = OpenAIBackend(url, "m", **FAST)
    with pytest.raises(LLMHTTPError, match=r"/v1/chat/completions answered HTTP 400: failure 400"):
        client.generate("q")
    assert script.hits == 1 and client.usage.retries == 0


def test_hanging_server_times_out_quickly(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.steps = ["hang"] * 5
    client = OpenAIBackend(url, "m", timeout_s=0.3, max_retries=1, backoff_s=0.01)
    t0 = time.perf_counter()
    with pytest.raises(LLMTimeoutError, match=r"no answer within 0.3 s.*gave up after 2 tries"):
        client.generate("q")
    assert time.perf_counter() - t0 < 3 and script.hits == 2


def test_unreachable_endpoint_names_the_url() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    client = OpenAIBackend(url, "m", timeout_s=2.0, max_retries=1, backoff_s=0.01)
    with pytest.raises(LLMConnectionError, match=rf"cannot reach .* at {url} .*refused"):
        client.score(["q"], ["Yes"])
    assert client.usage.retries == 1


def test_api_key_is_sent_as_bearer_and_never_shown(
    fake: tuple[str, Script], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, script = fake
    monkeypatch.setenv(KEY_ENV, KEY)
    caplog.set_level(logging.DEBUG)
    client = make_backend(
        LLMParams(backend="openai", base_url=url, model="m", api_key_env=KEY_ENV, **FAST),
        cached=False,
    )
    script.steps = [500, 401]  # both error bodies echo the key back
    with pytest.raises(LLMHTTPError) as info:
        client.generate("q")
    assert script.auth == [f"Bearer {KEY}"] * 2
    shown = [str(info.value), repr(info.value), repr(client), str(vars(client)), caplog.text]
    shown.append(json.dumps(client.describe()))
    assert all(KEY not in text for text in shown)
    assert "your key was ***" in str(info.value)
    assert KEY_ENV in repr(client)


def test_missing_key_variable_is_named() -> None:
    with pytest.raises(LLMError, match="TRUSTIR_NO_SUCH_KEY_VAR .* not set"):
        OpenAIBackend("http://127.0.0.1:9/v1", "m", api_key_env="TRUSTIR_NO_SUCH_KEY_VAR")


def test_serve_llm_main_serves_until_stopped(tiny: HFBackend) -> None:
    code = "import sys; from trustir.llm.server import main; sys.exit(main(sys.argv[1:]))"
    args = ["--model", str(tiny.model.name_or_path), "--port", "0", "--device", "cpu"]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "serving <model_id> at http://127.0.0.1:<port>/v1 ..."
        url = line.split(" at ")[1].split()[0]
        assert line.startswith(f"serving {tiny.model_id} at http://127.0.0.1:")
        gens = OpenAIBackend(url, "tiny", **FAST).generate("hi", max_new_tokens=3)
        assert gens[0].tokens_out == len(gens[0].token_logprobs)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0

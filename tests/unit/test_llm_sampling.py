"""Sampling (issue 14): one prefill for n samples, samples independent of n, cached by index."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from trustir.llm.backends.hf import HFBackend
from trustir.llm.backends.openai import OpenAIBackend
from trustir.llm.ledger import Ledger
from trustir.llm.sampling import SamplingParams, row_seed, sample_many
from trustir.llm.server import serving
from trustir.llm.store import LabelStore
from trustir.llm.testing import build_tiny_model

PROMPT = "Name one instrument that Ada Lovelace plays."


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> HFBackend:
    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    return HFBackend(str(path), device="cpu")


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def test_sample_i_depends_on_its_seed_only(tiny: HFBackend) -> None:
    seeds = [11, 12, 13, 14, 15, 16]
    all6 = tiny.sample(PROMPT, seeds, temperature=1.0, max_new_tokens=6)
    last3 = tiny.sample(PROMPT, seeds[3:], temperature=1.0, max_new_tokens=6)
    assert [g.tokens for g in all6[3:]] == [g.tokens for g in last3]
    assert len({tuple(g.tokens) for g in all6}) > 1  # a random tiny model: samples differ
    for g in all6:
        assert g.logprob == pytest.approx(sum(g.token_logprobs))
        assert all(lp <= 0 for lp in g.token_logprobs)


def test_tiny_top_p_is_greedy(tiny: HFBackend) -> None:
    greedy = tiny.generate(PROMPT, 1, 0.0, max_new_tokens=6)[0]
    nucleus = tiny.sample(PROMPT, [1, 2, 3], temperature=1.0, top_p=1e-6, max_new_tokens=6)
    assert all(g.tokens == greedy.tokens for g in nucleus)


def test_one_prefill_for_all_samples(tiny: HFBackend) -> None:
    prompt = PROMPT + " (once)"  # a prompt no earlier test cached
    n_prompt = len(tiny.render(prompt))
    before = tiny.usage.snapshot()["tokens_computed"]
    gens = tiny.sample(prompt, list(range(8)), temperature=1.0, max_new_tokens=4)
    computed = tiny.usage.snapshot()["tokens_computed"] - before
    steps = max(len(g.tokens) for g in gens) + 1
    # the prompt once (8 prefills would be 8 × n_prompt), then 8 rows per decode step
    assert computed <= n_prompt + 8 * steps
    assert computed < 2 * n_prompt


def test_store_rerun_costs_nothing_and_growing_n_costs_the_new_samples(
    tiny: HFBackend, tmp_path
) -> None:
    prompts = {"q1": PROMPT, "q2": "Name a language spoken in Lyon."}
    with LabelStore(tmp_path / "labels.sqlite") as store:
        calls0 = tiny.usage.snapshot()["calls"]
        p10 = SamplingParams(n=4, temperature=1.0, max_new_tokens=5, seed=3)
        first = sample_many(tiny, store, prompts, p10)
        assert tiny.usage.snapshot()["calls"] - calls0 == 4  # greedy + one sample call, ×2
        assert len(store) == 2 * (1 + 4)
        ledger = Ledger()
        again = sample_many(tiny, store, prompts, p10, ledger=ledger)
        assert tiny.usage.snapshot()["calls"] - calls0 == 4  # nothing new
        assert ledger.cache_hits == 10
        out_before = tiny.usage.snapshot()["tokens_out"]
        p20 = SamplingParams(n=8, temperature=1.0, max_new_tokens=5, seed=3)
        grown = sample_many(tiny, store, prompts, p20)
        assert tiny.usage.snapshot()["calls"] - calls0 == 6  # one call per prompt, 4 samples
        assert len(store) == 2 * (1 + 8)
        new_tokens = tiny.usage.snapshot()["tokens_out"] - out_before
        assert new_tokens == sum(g.tokens_out for q in prompts for g in grown[q].samples[4:])
    for q in prompts:
        assert [g.text for g in again[q].samples] == [g.text for g in first[q].samples]
        assert [g.tokens for g in grown[q].samples[:4]] == [g.tokens for g in first[q].samples]
        assert first[q].greedy.tokens == tiny.generate(prompts[q], 1, 0.0, 5)[0].tokens
    # the same samples as fresh draws from the per-index seeds
    fresh = tiny.sample(PROMPT, [row_seed(3, PROMPT, i) for i in range(8)], 1.0, 1.0, 5)
    assert [g.tokens for g in fresh] == [g.tokens for g in grown["q1"].samples]


@pytest.fixture(scope="module")
def served(tiny: HFBackend) -> Iterator[str]:
    with serving(tiny) as url:
        yield url


def test_openai_backend_samples_like_hf_through_the_server(tiny: HFBackend, served: str) -> None:
    client = OpenAIBackend(served, model="tiny", concurrency=1)
    seeds = [5, 6, 7]
    remote = client.sample(PROMPT, seeds, temperature=1.0, top_p=0.9, max_new_tokens=5)
    local = tiny.sample(PROMPT, seeds, temperature=1.0, top_p=0.9, max_new_tokens=5)
    assert [g.text for g in remote] == [g.text for g in local]
    for r, loc in zip(remote, local, strict=True):
        assert np.allclose(r.token_logprobs, loc.token_logprobs, atol=1e-5)


def test_openai_sample_falls_back_to_one_request_per_seed() -> None:
    """A server that refuses trustir's ``seeds`` (400) gets one n=1 request per seed."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            bodies.append(body)
            if "seeds" in body:
                status, out = 400, {"error": {"message": "unknown field seeds"}}
            else:
                tok = {"token": f"s{body['seed']}", "logprob": -0.5}
                choice = {"index": 0, "message": {"content": f"s{body['seed']}"},
                          "logprobs": {"content": [tok]}, "finish_reason": "stop"}  # fmt: skip
                status, out = 200, {"choices": [choice], "usage": {"prompt_tokens": 3}}
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        client = OpenAIBackend(url, "m", concurrency=1, max_retries=0)
        gens = client.sample("q", [7, 8, 9], temperature=1.0, top_p=0.5, max_new_tokens=3)
        assert [g.text for g in gens] == ["s7", "s8", "s9"]
        assert [g.logprob for g in gens] == [-0.5] * 3
        assert len(bodies) == 4 and bodies[0]["n"] == 3 and bodies[0]["seeds"] == [7, 8, 9]
        assert all(b["n"] == 1 and b["top_p"] == 0.5 for b in bodies[1:])
        client.sample("q", [1], temperature=1.0)  # refused once: no more 'seeds' requests
        assert len(bodies) == 5 and "seeds" not in bodies[-1]
    finally:
        server.shutdown()
        server.server_close()


def test_n_zero_is_greedy_only(tiny: HFBackend, tmp_path) -> None:
    with LabelStore(tmp_path / "labels.sqlite") as store:
        calls0 = tiny.usage.snapshot()["calls"]
        got = sample_many(tiny, store, {"q": PROMPT}, SamplingParams(n=0, max_new_tokens=4))
        assert tiny.usage.snapshot()["calls"] - calls0 == 1 and len(store) == 1
    assert (
        got["q"].samples == []
        and got["q"].greedy.tokens == tiny.generate(PROMPT, 1, 0.0, 4)[0].tokens
    )


def test_nucleus_draw_follows_the_tempered_nucleus_law() -> None:
    import torch

    from trustir.llm.backends.hf import nucleus_draw

    p = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logp = p.log().expand(4000, -1)  # [rows, V]
    rows = [torch.Generator().manual_seed(i) for i in range(4000)]
    gen = torch.Generator().manual_seed(0)

    def freq(temperature: float, top_p: float) -> np.ndarray:
        tok = nucleus_draw(logp, temperature, top_p, rows, gen)
        return np.bincount(tok.numpy(), minlength=4) / len(tok)

    np.testing.assert_allclose(freq(1.0, 1.0), [0.5, 0.3, 0.15, 0.05], atol=0.025)
    # top_p 0.7: the nucleus is {0.5, 0.3} (0.5 alone is below 0.7), renormalised
    np.testing.assert_allclose(freq(1.0, 0.7), [0.625, 0.375, 0, 0], atol=0.025)
    t = p ** (1 / 0.5) / (p ** (1 / 0.5)).sum()  # temperature 0.5 sharpens
    np.testing.assert_allclose(freq(0.5, 1.0), t.numpy(), atol=0.025)
    assert (freq(1.0, 0.7)[2:] == 0).all()

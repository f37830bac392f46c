"""hf backend: prefix-KV scoring equals naive forwards; real SmolLM2 loads from its cache, scores
yes/no as log-probs and generates deterministically."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from trustir.llm.backends.hf import HFBackend, common_prefix_len
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.testing import build_tiny_model

SYSTEM = {"role": "system", "content": "You grade how relevant a document is to a query, 0 to 3."}
OPTIONS = ["0", "1", "2", "3", "10", "Yes"]  # "10" is two tokens in SmolLM2's vocabulary


def chat(query: str, doc: str) -> list[dict[str, str]]:
    return [SYSTEM, {"role": "user", "content": f"Query: {query}\nDocument: {doc}\nGrade:"}]


#: two queries with two documents each: a long shared system prefix, a longer one per query,
#: and documents of different lengths (so rows are padded)
PROMPTS = [
    chat("how long is the river elbe in kilometres", "The Elbe is 1094 km long."),
    chat(
        "how long is the river elbe in kilometres",
        "Rivers are long and wet, flowing to the sea over many kilometres.",
    ),
    chat("which city is the capital of germany today", "Paris."),
    chat(
        "which city is the capital of germany today",
        "Berlin is the capital of Germany and its largest city by population.",
    ),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> HFBackend:
    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    return HFBackend(str(path), device="cpu", batch_size=16)


def test_common_prefix_len() -> None:
    assert common_prefix_len([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix_len([[5, 1], [4, 1]]) == 0
    assert common_prefix_len([[1, 2, 3]]) == 3


def test_prefix_cached_scores_equal_naive_forwards(tiny: HFBackend) -> None:
    # each query's documents form a run with its own, longer cached prefix
    assert tiny._groups([tiny.render(p) for p in PROMPTS]) == [[0, 1], [2, 3]]
    naive = tiny.score_naive(PROMPTS, OPTIONS)  # one full forward per (prompt, option)
    assert naive.std() > 0.5  # the tiny model is sharp enough for misalignment to show
    tiny._prefixes.clear()
    before = tiny.usage.snapshot()
    fast = tiny.score(PROMPTS, OPTIONS)
    np.testing.assert_allclose(fast, naive, atol=1e-4, rtol=0)
    after = tiny.usage.snapshot()
    # the shared prefix ran once: fewer tokens computed than a plain padded batch would need
    plain = sum(tiny.count_tokens(p) for p in PROMPTS) * 2  # base row + the "10" row
    assert after["tokens_computed"] - before["tokens_computed"] < plain


def test_batching_and_padding_do_not_change_scores(tiny: HFBackend) -> None:
    ref = tiny.score_naive(PROMPTS, OPTIONS)
    for batch_size, prefix in [(1, True), (2, True), (3, True), (64, False)]:
        tiny.batch_size, tiny.prefix_cache = batch_size, prefix
        tiny._prefixes.clear()
        np.testing.assert_allclose(tiny.score(PROMPTS, OPTIONS), ref, atol=1e-4, rtol=0)
    tiny.batch_size, tiny.prefix_cache = 16, True
    # a prompt scored alone equals the same prompt scored amid others (and via a warm LRU)
    alone = tiny.score(PROMPTS[3:], OPTIONS)
    np.testing.assert_allclose(alone[0], ref[3], atol=1e-4, rtol=0)
    # a batch whose shared prefix is a cropped start of a cached one (no new prefix tokens)
    tiny.score(PROMPTS[:2], OPTIONS)
    mixed = tiny.score([PROMPTS[0], PROMPTS[2]], OPTIONS)
    np.testing.assert_allclose(mixed, ref[[0, 2]], atol=1e-4, rtol=0)


def test_multi_token_option_is_sum_of_its_tokens(tiny: HFBackend) -> None:
    one, zero = tiny.option_ids("1"), tiny.option_ids("0")
    assert tiny.option_ids("10") == one + zero
    s = tiny.score(PROMPTS[:2], ["1", "10"])
    # an independent full forward over prompt + "1" + "0" gives each token's log-prob
    _, echoed = tiny.generate_ids(tiny.render(PROMPTS[0]) + one + zero, 1, 0.0, 0, echo=True)
    assert echoed is not None
    lp_one, lp_zero = echoed.logprobs[-2], echoed.logprobs[-1]
    np.testing.assert_allclose(s[0, 0], lp_one, atol=1e-4)
    np.testing.assert_allclose(s[0, 1], lp_one + lp_zero, atol=1e-4)
    assert lp_zero < -1e-3  # the second token does contribute


def test_sampling_is_seeded_and_greedy_is_argmax(tiny: HFBackend) -> None:
    a = tiny.generate(PROMPTS[0], n=3, temperature=1.0, max_new_tokens=6)
    b = tiny.generate(PROMPTS[0], n=3, temperature=1.0, max_new_tokens=6)
    assert [g.text for g in a] == [g.text for g in b]
    assert len({g.text for g in a}) > 1  # three samples of a flat model differ
    c = tiny.generate(PROMPTS[0], n=3, temperature=1.0, max_new_tokens=6, seed=123)
    assert [g.text for g in c] != [g.text for g in a]
    g = tiny.generate(PROMPTS[0], max_new_tokens=4)[0]
    assert g.tokens_out == len(g.token_logprobs) == len(g.tokens) <= 4
    assert g.tokens_in == tiny.count_tokens(PROMPTS[0])
    # greedy: the first token is the argmax of the next-token distribution, its log-prob too
    gens, _ = tiny.generate_ids(tiny.render(PROMPTS[0]), max_new_tokens=1, top_k=1)
    assert gens[0].top[0][0][1] == pytest.approx(g.token_logprobs[0], abs=1e-5)
    assert all(lp <= 0 for lp in g.token_logprobs)


def test_generate_reusing_cached_prefixes_equals_plain_prefill(tiny: HFBackend) -> None:
    tiny.score(PROMPTS, OPTIONS)  # warms the prefix LRU with the shared instruction
    before = tiny.usage.snapshot()["tokens_computed"]
    cached = tiny.generate(PROMPTS[2], n=2, temperature=0.7, max_new_tokens=5, seed=3)
    saved = tiny.count_tokens(PROMPTS[2]) - (tiny.usage.snapshot()["tokens_computed"] - before)
    tiny.prefix_cache = False
    try:
        plain = tiny.generate(PROMPTS[2], n=2, temperature=0.7, max_new_tokens=5, seed=3)
    finally:
        tiny.prefix_cache = True
    assert saved > 20  # the instruction was not recomputed
    assert [g.text for g in cached] == [g.text for g in plain]
    for a, b in zip(cached, plain, strict=True):
        np.testing.assert_allclose(a.token_logprobs, b.token_logprobs, atol=1e-4)


def test_bad_options_are_errors(tiny: HFBackend) -> None:
    with pytest.raises(ValueError, match="repeat"):
        tiny.score(PROMPTS[:1], ["1", "1"])
    with pytest.raises(ValueError, match="at least one"):
        tiny.score(PROMPTS[:1], [])


# ---- the real SmolLM2 (converted once into the persistent cache) ------------------------------
@pytest.fixture(scope="module")
def smol() -> HFBackend:
    return make_backend(LLMParams(model="smollm2", device="cpu"))  # type: ignore[return-value]


def test_smollm2_scores_yes_no_as_log_probs(smol: HFBackend) -> None:
    prompts = [
        "Is Paris the capital of France? Answer Yes or No.",
        "Is the moon made of cheese? Answer Yes or No.",
    ]
    s = smol.score(prompts, ["Yes", "No"])
    assert s.shape == (2, 2) and np.isfinite(s).all()
    total = np.logaddexp(s[:, 0], s[:, 1])  # P(Yes) + P(No) ≤ 1
    assert (total <= 1e-9).all() and (total > np.log(0.05)).all()  # and they are likely replies
    assert smol.model_id.startswith("smollm2-135m-instruct@gguf-")


def test_smollm2_greedy_generate_is_deterministic(smol: HFBackend) -> None:
    prompt = "Name one colour of the rainbow. Reply with one word."
    a = smol.generate(prompt, max_new_tokens=6)[0]
    b = smol.generate(prompt, max_new_tokens=6)[0]
    assert a.text == b.text and a.text.strip()
    assert a.token_logprobs == pytest.approx(b.token_logprobs)


def test_smollm2_second_load_comes_from_the_safetensors_cache(smol: HFBackend) -> None:
    from trustir.llm.models import smollm2_dir

    path, _ = smollm2_dir()  # converted by the fixture; now only hashed
    assert (Path(path) / "model.safetensors").is_file()
    t0 = time.perf_counter()
    again = HFBackend("smollm2", device="cpu")
    seconds = time.perf_counter() - t0
    assert again.model_id == smol.model_id
    assert seconds < 20, f"reload took {seconds:.1f}s (dequantising the GGUF takes ~30s)"

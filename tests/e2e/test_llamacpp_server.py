"""trustir's ``openai`` backend against a server trustir did not write: llama-cpp-python's
OpenAI-compatible server on loopback, serving the packaged SmolLM2 GGUF (issue 13).

The option judges' labels through the label store must be valid rows, and their scores must rank
the pairs as the hf backend does on the same prompts (same Q4_1 weights; llama.cpp computes with
the quantised weights, hf with them dequantised to fp32, so the scores agree closely, not
exactly). Option judges are scored in ``chat`` mode (the first generated token's top
log-probs); the query-likelihood judge (``upr-chat``) reads echoed prompt log-probs from
``/completions``, whose text offsets llama-cpp-python 0.3.36 computes without the special
tokens' text: the backend finds the query's tokens from the end (README, "The judge bench").
Skipped where llama-cpp-python was not built (``make llamacpp``: 15-30 min, once).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from trustir.annotate.base import get_judge
from trustir.annotate.params import AnnotateParams
from trustir.annotate.run import judge_pairs
from trustir.llm.backends.hf import HFBackend
from trustir.llm.backends.openai import OpenAIBackend
from trustir.llm.llamacpp import ALIAS, LlamaCppServer, server_python
from trustir.llm.models import smollm2_gguf
from trustir.llm.store import LabelStore

pytestmark = pytest.mark.slow

#: Spearman between the backends' scores on these 12 pairs: all three judges passed 0.8 here;
#: benchmarks/bench_judges.py measured 0.95 (relevance) and 1.00 (p-true) on 8 world pairs.
MIN_SPEARMAN = 0.8

QUERIES = {
    "q1": "how long is the elbe river",
    "q2": "what is the capital of france",
    "q3": "when was the telephone invented",
}
DOCS = {
    "d1": "The Elbe is a river in Central Europe, about 1,094 km long, flowing to Hamburg.",
    "d2": "Paris is the capital and largest city of France, on the river Seine.",
    "d3": "Alexander Graham Bell patented the first practical telephone in 1876.",
    "d4": "Bananas are rich in potassium and grow in tropical climates.",
}


def pairs() -> pl.DataFrame:
    rows = [(q, d) for q in QUERIES for d in DOCS]  # 12 pairs: 3 relevant, 9 not
    return pl.DataFrame(
        {
            "query_id": [q for q, _ in rows],
            "doc_id": [d for _, d in rows],
            "query": [QUERIES[q] for q, _ in rows],
            "doc": [DOCS[d] for _, d in rows],
        }
    )


@pytest.fixture(scope="module")
def server():
    if server_python() is None:
        pytest.skip("llama-cpp-python not built: run make llamacpp")
    with LlamaCppServer(smollm2_gguf(), logits_all=True) as srv:
        yield srv


@pytest.mark.parametrize(
    ("judge_name", "mode"),
    [("relevance", "chat"), ("p-true", "chat"), ("query-likelihood", "completions")],
)
def test_openai_backend_against_llamacpp_server(server, tmp_path, judge_name, mode) -> None:
    judge = get_judge(judge_name, AnnotateParams())
    client = OpenAIBackend(
        server.base_url, ALIAS, tokenizer="smollm2", score_mode=mode, batch_size=1,
        concurrency=1, timeout_s=300.0,
    )  # fmt: skip
    frame = pairs()
    with LabelStore(tmp_path / "labels.sqlite") as store:
        labels = judge_pairs(judge, client, store, frame, "score", show_progress=False)
    assert labels["status"].to_list() == ["ok"] * frame.height
    assert labels["model"].unique().to_list() == [ALIAS]
    got = labels["score"].to_numpy()
    assert np.isfinite(got).all()
    if judge_name != "query-likelihood":  # a label from the option probabilities
        allowed = {0, 1, 2, 3} if judge_name == "relevance" else {0, 1}
        assert set(labels["label"].to_list()) <= allowed
    hf = HFBackend("smollm2", device="cpu")
    want = np.array([v.score for v in judge.score_batch(hf, frame.to_dicts())])
    rho = spearmanr(got, want).statistic
    assert rho >= MIN_SPEARMAN, (rho, got.round(3).tolist(), want.round(3).tolist())

"""Issue 13 judges: query likelihood (UPR) and P(True), the continuation scoring path, the grade
rules, on a tiny config-built model and hand-worked values."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch

from trustir.annotate.base import JUDGES, get_judge
from trustir.annotate.judges.query_likelihood import QueryLikelihood
from trustir.annotate.params import AnnotateParams
from trustir.annotate.relevance_labels import grade_rule_expr, grade_rule_text
from trustir.annotate.run import judge_pairs
from trustir.llm.backends.hf import HFBackend
from trustir.llm.store import LabelStore
from trustir.llm.testing import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> HFBackend:
    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    return HFBackend(str(path), device="cpu", batch_size=3)


def naive_continuation(backend: HFBackend, prompt_ids: list[int], cont: str) -> np.ndarray:
    """Reference: one full forward of prompt + continuation, log-softmax, the tokens' values."""
    tail = backend.option_ids(cont)
    seq = torch.tensor([prompt_ids + tail])
    with torch.inference_mode():
        logp = torch.log_softmax(backend.model(seq).logits[0].float(), -1)  # [T, V]
    pos = torch.arange(len(prompt_ids) - 1, len(prompt_ids) + len(tail) - 1)
    return logp[pos, torch.tensor(tail)].double().numpy()


PAIRS = [
    ("Passage: The Elbe is 1094 km long.\nQuestion:", " how long is the elbe"),
    ("Passage: Berlin is the capital of Germany.\nQuestion:", " capital of germany"),
    ("Passage: Rivers flow to the sea over many kilometres, slowly.\nQuestion:", " rivers"),
    ("Passage: Paris.\nQuestion:", " which city is the capital of france today please"),
]


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_continuation_logprobs_equal_naive_forwards(tiny: HFBackend, prefix_cache: bool) -> None:
    tiny.prefix_cache = prefix_cache
    tiny._prefixes.clear()
    got = tiny.continuation_logprobs([p for p, _ in PAIRS], [c for _, c in PAIRS], chat=False)
    for (p, c), lp in zip(PAIRS, got, strict=True):
        want = naive_continuation(tiny, tiny._encode_plain(p), c)
        assert lp.shape == want.shape and lp.shape[0] == len(tiny.option_ids(c))
        np.testing.assert_allclose(lp, want, atol=1e-4, rtol=0)
    assert np.std(np.concatenate(got)) > 0.1  # distinct values: a misaligned read would show
    tiny.prefix_cache = True


def test_continuation_logprobs_with_chat_template(tiny: HFBackend) -> None:
    msgs = [[{"role": "user", "content": p}] for p, _ in PAIRS[:2]]
    got = tiny.continuation_logprobs(msgs, ["elbe", "berlin"], chat=True)
    for m, c, lp in zip(msgs, ["elbe", "berlin"], got, strict=True):
        np.testing.assert_allclose(lp, naive_continuation(tiny, tiny.render(m), c), atol=1e-4)


def test_query_likelihood_score_is_the_mean_token_log_prob() -> None:
    v = QueryLikelihood.from_token_logprobs(np.array([-1.0, -2.0, -6.0]))
    assert v.score == pytest.approx(-3.0) and v.label is None and v.status == "ok"
    assert v.raw == "sum=-9.0000,n=3"
    for bad in (np.array([]), np.array([-1.0, np.nan]), np.array([-np.inf])):
        assert QueryLikelihood.from_token_logprobs(bad).status == "error"


def test_query_likelihood_prompt_variants_and_hash() -> None:
    upr = QueryLikelihood("upr")
    assert upr.prompt("q", "The Elbe.") == (
        "Passage: The Elbe.\nPlease write a question based on this passage.\nQuestion:"
    )
    assert upr.continuation(" how long ") == " how long"
    chat = QueryLikelihood("upr-chat")
    assert chat.prompt("q", "d")[0]["role"] == "user" and chat.continuation("x ") == "x"
    cut = QueryLikelihood("upr", max_chars=3)
    assert "Passage: The\n" in cut.prompt("q", "The Elbe.")
    assert len({upr.prompt_hash, chat.prompt_hash, cut.prompt_hash}) == 3
    with pytest.raises(ValueError, match="annotate.query_likelihood.template"):
        QueryLikelihood("nope")
    judge = get_judge(
        "query-likelihood",
        AnnotateParams(
            judge="query-likelihood", grade_rule="quantile", query_likelihood={"template": "search"}
        ),
    )
    assert isinstance(judge, QueryLikelihood) and judge.template == "search"


def test_query_likelihood_through_the_store_costs_nothing_twice(tiny: HFBackend, tmp_path) -> None:
    pairs = pl.DataFrame(
        {
            "query_id": ["q1", "q1", "q2"],
            "doc_id": ["d1", "d2", "d3"],
            "query": ["how long is the elbe", "how long is the elbe", "capital of germany"],
            "doc": ["The Elbe is 1094 km long.", "Paris.", "Berlin is the capital."],
        }
    )
    judge = QueryLikelihood("upr")
    with LabelStore(tmp_path / "l.sqlite") as store:
        first = judge_pairs(judge, tiny, store, pairs, show_progress=False)
        calls = tiny.usage.calls
        again = judge_pairs(judge, tiny, store, pairs, show_progress=False)
    assert tiny.usage.calls == calls  # a re-run is all cache hits
    assert first["score"].to_list() == again["score"].to_list()
    lp = tiny.continuation_logprobs(
        [judge.prompt("", d) for d in pairs["doc"]], [" " + q for q in pairs["query"]], chat=False
    )
    np.testing.assert_allclose(first["score"].to_numpy(), [x.mean() for x in lp], atol=1e-6)
    assert (first["tokens_in"] > 0).all()


def test_p_true_reads_true_false_options() -> None:
    judge = JUDGES.get("p-true")()
    v = judge.from_logprobs([np.log(0.7), np.log(0.2)])  # renormalised: 0.7 / 0.9
    assert v.label == 1 and v.score == pytest.approx(0.7 / 0.9)
    msgs = judge.prompt("the query", "the passage")
    assert msgs[1]["content"].index("<passage>") < msgs[1]["content"].index("<query>")


FRAME = pl.DataFrame(
    {
        "query_id": ["a", "a", "a", "a", "b", "b"],
        "label": [None, None, None, None, None, None],
        "score": [-1.0, -3.0, -2.0, -4.0, -5.0, -0.5],
    },
    schema_overrides={"label": pl.Int64},
)


def test_quantile_grade_rule_per_query() -> None:
    params = AnnotateParams(judge="query-likelihood", grade_rule="quantile", quantile=0.5)
    got = FRAME.select(grade_rule_expr(params, 2).alias("g"))["g"].to_list()
    # a: top ceil(0.5 * 4) = 2 by score (-1, -2); b: top ceil(0.5 * 2) = 1 (-0.5)
    assert got == [2, 0, 2, 0, 0, 2]
    assert grade_rule_text(params, 2) == "quantile:0.5->2"
    tiny_q = AnnotateParams(judge="query-likelihood", grade_rule="quantile", quantile=0.01)
    assert FRAME.select(grade_rule_expr(tiny_q, 1).alias("g"))["g"].to_list() == [1, 0, 0, 0, 0, 1]


def test_threshold_grade_rule_on_scores_gives_zero_below() -> None:
    params = AnnotateParams(judge="query-likelihood", grade_rule="threshold", threshold=-2.0)
    got = FRAME.select(grade_rule_expr(params, 2).alias("g"))["g"].to_list()
    assert got == [2, 0, 2, 0, 0, 2]
    assert grade_rule_text(params, 2) == "threshold:-2.0->2"


def test_score_judge_needs_a_score_rule() -> None:
    assert AnnotateParams(judge="query-likelihood").rule == "quantile"  # auto
    assert AnnotateParams(judge="relevance").rule == "threshold"
    with pytest.raises(ValueError, match="grade_rule"):
        AnnotateParams(judge="query-likelihood", grade_rule="threshold", threshold=None)
    with pytest.raises(ValueError, match="grade_rule"):
        AnnotateParams(judge="query-likelihood", grade_rule="label")


def test_pmi_subtracts_the_empty_passage_score_computed_once_per_query(tiny: HFBackend) -> None:
    judge = QueryLikelihood("upr", pmi=True)
    items = [
        {"query": "elbe length", "doc": "The Elbe is long."},
        {"query": "elbe length", "doc": "Paris."},
    ]
    calls = tiny.usage.calls
    got = judge.score_batch(tiny, items)
    assert tiny.usage.calls - calls == 3  # two pairs, one empty-passage score for the query
    plain = [v.score for v in QueryLikelihood("upr").score_batch(tiny, items)]
    null = tiny.continuation_logprobs([judge.prompt("", "")], [" elbe length"], chat=False)[0]
    for v, p in zip(got, plain, strict=True):
        assert v.score == pytest.approx(p - null.mean(), abs=1e-5) and v.status == "ok"
    calls = tiny.usage.calls
    judge.score_batch(tiny, items[:1])
    assert tiny.usage.calls - calls == 1  # the query's empty-passage score is remembered

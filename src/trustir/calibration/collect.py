"""The ``calibration_sample`` stage's work: every LLM call of P4, through the label store.

Per question: the greedy reply and ``n`` samples of the answer prompt and of the verbalized
prompt, the greedy top-k verbalized reply, and P(True) of the greedy answer (Yes/No option
scores). Returns ``samples`` (qid, kind, index, text, tokens, token_logprobs, logprob) and
``ptrue`` (qid, answer, logp_yes, logp_no).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from trustir.calibration import prompts as P
from trustir.calibration.params import CalibrationParams
from trustir.llm.base import LLMBackend
from trustir.llm.sampling import GREEDY, SamplingParams, sample_many
from trustir.llm.store import LabelStore, compute_missing, label_key

SAMPLES = {
    "qid": pl.String,
    "kind": pl.String,
    "index": pl.String,
    "text": pl.String,
    "tokens": pl.List(pl.String),
    "token_logprobs": pl.List(pl.Float64),
    "logprob": pl.Float64,
}
PTRUE = {"qid": pl.String, "answer": pl.String, "logp_yes": pl.Float64, "logp_no": pl.Float64}
#: answer and verbalized: the greedy reply (index "greedy") and n samples; topk: greedy only
KINDS = ("answer", "verbalized", "topk")


def _rows(qid: str, kind: str, samples: Any, greedy: bool) -> list[tuple]:
    gens = ([(GREEDY, samples.greedy)] if greedy else []) + list(enumerate(samples.samples))
    return [(qid, kind, str(i), g.text, g.tokens, g.token_logprobs, g.logprob) for i, g in gens]


def collect(
    qa: pl.DataFrame,
    params: CalibrationParams,
    backend: LLMBackend,
    store: LabelStore,
    ledger: Any | None = None,
) -> dict[str, pl.DataFrame]:
    """Every sample and P(True) score of ``qa``'s questions (cached ones read, not recomputed)."""
    sp = params.sample
    sampling = SamplingParams(sp.n, sp.temperature, sp.top_p, sp.max_new_tokens, sp.seed)
    topk = SamplingParams(0, sp.temperature, sp.top_p, sp.topk_tokens, sp.seed)  # greedy only
    qs = list(qa.select("qid", "question", "context").iter_rows())
    answer = {q: P.answer_prompt(t, c) for q, t, c in qs}
    verbal = {q: P.verbalized_prompt(t, c) for q, t, c in qs}
    guesses = {q: P.topk_prompt(t, c, sp.top_k) for q, t, c in qs}
    rows: list[tuple] = []
    kw = {"task": "calibration", "ledger": ledger}
    got = sample_many(backend, store, answer, sampling, **kw)
    rows += [r for q in answer for r in _rows(q, "answer", got[q], True)]
    vb = sample_many(backend, store, verbal, sampling, **kw)
    rows += [r for q in verbal for r in _rows(q, "verbalized", vb[q], True)]
    tk = sample_many(backend, store, guesses, topk, **kw)
    rows += [r for q in guesses for r in _rows(q, "topk", tk[q], True)]
    samples = pl.DataFrame(rows, schema=SAMPLES, orient="row")
    ptrue = p_true(qs, {q: got[q].greedy.text for q in answer}, backend, store, ledger)
    return {"samples": samples, "ptrue": ptrue}


def p_true(
    qs: list[tuple[str, str, list[str]]],
    answers: dict[str, str],
    backend: LLMBackend,
    store: LabelStore,
    ledger: Any | None = None,
) -> pl.DataFrame:
    """Log-probs of "Yes" and "No" after the P(True) prompt of each question's greedy answer."""
    prompts = {q: P.ptrue_prompt(t, c, answers[q]) for q, t, c in qs}
    decoding = {"method": "score", "options": list(P.PTRUE_OPTIONS)}
    keys = {label_key(backend.model_id, P.PTRUE_HASH, decoding, p): q for q, p in prompts.items()}

    def compute(batch: list[tuple[str, str]]) -> list[dict[str, Any]]:
        lp = backend.score([prompts[q] for _, q in batch], P.PTRUE_OPTIONS)
        return [
            {"key": k, "task": "calibration", "item_id": f"{q}#p_true", "score": float(row[0]),
             "raw": json.dumps(row.tolist()), "status": "ok", "model": backend.model_id,
             "prompt_hash": P.PTRUE_HASH}
            for (k, q), row in zip(batch, lp, strict=True)
        ]  # fmt: skip

    got = compute_missing(store, keys, compute, ledger=ledger)
    rows = [(q, answers[q], *json.loads(got[k]["raw"])) for k, q in keys.items()]
    return pl.DataFrame(rows, schema=PTRUE, orient="row")

"""Judge (query, document) pairs through the label store: cached labels are read, missing ones
computed in flushed batches (a killed run resumes), every call counted in the ledger."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Literal

import polars as pl

from trustir.annotate.base import Judge, Verdict
from trustir.llm.base import LLMBackend, LLMError, LLMPartialScores
from trustir.llm.ledger import Ledger
from trustir.llm.store import LabelStore, compute_missing, label_key, now_utc

Mode = Literal["score", "generate"]
PAIR_COLUMNS = ("query_id", "doc_id", "query", "doc")


log = logging.getLogger(__name__)


class AnnotationErrors(RuntimeError):
    """Some items failed in the backend; their labels are missing (the next run retries them)."""


def pair_key(judge: Judge, backend: LLMBackend, mode: Mode, query: str, doc: str) -> str:
    """The content address of one judgment: model, template, decoding, and the two texts."""
    decoding = {"mode": mode, "temperature": 0.0} if mode == "generate" else {"mode": mode}
    return label_key(backend.model_id, judge.prompt_hash, decoding, {"query": query, "doc": doc})


def _score_batch(
    judge: Judge, backend: LLMBackend, batch: Sequence[dict]
) -> tuple[list[Verdict], int]:
    """The batch's verdicts and how many items failed in the backend. When some prompts failed
    for good (:class:`LLMPartialScores`, an option judge), only those become error rows."""
    try:
        return judge.score_batch(backend, batch), 0
    except LLMPartialScores as exc:
        if type(judge).score_batch is not Judge.score_batch:  # its own path: all or nothing
            raise
        verdicts = [
            Verdict(None, None, f"error: {exc.failed[i]}", "error")
            if i in exc.failed
            else judge.from_logprobs(row)
            for i, row in enumerate(exc.scores)
        ]
        return verdicts, len(exc.failed)


def _generate_one(
    judge: Judge, backend: LLMBackend, item: dict, max_new_tokens: int
) -> tuple[Verdict, int]:
    """Greedy reply, parsed, and the tokens generated; an unparseable reply gets one retry with
    a stricter prompt (its tokens count too)."""
    verdict, tokens_out = None, 0
    for strict in (False, True):
        gen = backend.generate(
            judge.prompt(item["query"], item["doc"], strict=strict),
            n=1,
            temperature=0.0,
            max_new_tokens=max_new_tokens,
        )[0]
        tokens_out += gen.tokens_out
        verdict = judge.parse(gen.text)
        if verdict.status == "ok":
            break
    return verdict, tokens_out  # unparseable twice: recorded as such, never a silent default


def judge_pairs(
    judge: Judge,
    backend: LLMBackend,
    store: LabelStore,
    pairs: pl.DataFrame,
    mode: Mode = "score",
    ledger: Ledger | None = None,
    flush_every: int = 32,
    max_new_tokens: int = 8,
    show_progress: bool = True,
) -> pl.DataFrame:
    """Labels (the ``labels`` table) of every pair, in the order given.

    ``pairs`` has query_id, doc_id, query (text), doc (text); keep one query's documents
    together so the backend can reuse the shared prompt prefix. Raises AnnotationErrors after
    flushing everything that succeeded if some items failed in the backend. An answer with no
    reading (no option scored) is a row with status ``error`` and its reason, counted in the
    ledger's errors: it is stored so that the next run asks again (``LabelStore.missing``
    treats an error as missing), never as a label; the call does not raise for it.
    """
    from tqdm.auto import tqdm

    missing_cols = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing_cols:
        raise ValueError(f"pairs lack column(s) {missing_cols}")
    ledger = ledger or Ledger(run=f"annotate-{judge.name}", model=backend.model_id)
    items: dict[str, dict[str, Any]] = {}
    for row in pairs.iter_rows(named=True):
        items.setdefault(pair_key(judge, backend, mode, row["query"], row["doc"]), row)
    n_todo = len(store.missing(items.keys()))
    bar = tqdm(total=n_todo, desc=f"judging ({judge.name})", unit="pair", disable=not show_progress)
    errors = 0  # items that failed in the backend (LLMError)
    unscored = 0  # items whose answer gave no reading (status "error" from the judge)

    def compute(batch: list[tuple[str, dict]]) -> list[dict[str, Any]]:
        nonlocal errors, unscored
        t0 = time.perf_counter()
        try:
            failed = 0
            if mode == "score":
                verdicts, failed = _score_batch(judge, backend, [it for _, it in batch])
                out_tokens = [0] * len(batch)
            else:
                done = [_generate_one(judge, backend, it, max_new_tokens) for _, it in batch]
                verdicts, out_tokens = [v for v, _ in done], [n for _, n in done]
        except LLMError as exc:
            errors += len(batch)
            verdicts = [Verdict(None, None, f"error: {exc}", "error") for _ in batch]
            out_tokens = [None] * len(batch)
        else:
            errors += failed
            unscored += sum(v.status == "error" for v in verdicts) - failed
        per_item_ms = (time.perf_counter() - t0) * 1000 / max(len(batch), 1)
        bar.update(len(batch))
        return [
            {
                "key": key,
                "task": judge.task,
                "query_id": it["query_id"],
                "doc_id": it["doc_id"],
                "label": v.label,
                "score": v.score,
                "raw": v.raw,
                "status": v.status,
                "model": backend.model_id,
                "prompt_hash": judge.prompt_hash,
                "tokens_in": judge.tokens_in(backend, it["query"], it["doc"]),
                "tokens_out": n_out,
                "latency_ms": per_item_ms,
                "created_at": now_utc(),
            }
            for (key, it), v, n_out in zip(batch, verdicts, out_tokens, strict=True)
        ]

    with ledger.track(backend):
        compute_missing(store, items, compute, flush_every=flush_every, ledger=ledger)
    bar.close()
    if errors or unscored:
        ledger.add(errors=errors + unscored)
    if unscored:
        log.warning(
            "%s: %d of %d answers gave no label (no option scored); stored as errors, asked "
            "again next run",
            judge.name,
            unscored,
            len(items),
        )
    if errors:
        raise AnnotationErrors(
            f"{errors} of {len(items)} items failed in the backend; the other labels are saved "
            "and the next run retries only the failed ones"
        )
    keys = [
        pair_key(judge, backend, mode, q, d) for q, d in pairs.select("query", "doc").iter_rows()
    ]
    return store.frame(keys)

"""Run an authority judge's calls through the label store (P1): cached answers are read, missing
ones computed in flushed batches, every call counted (a forced re-run costs zero calls).

Score-mode calls are batched through ``backend.score`` (consecutive prompts share their
instruction prefix, whose KV cache the hf backend reuses); generate-mode calls are greedy replies,
parsed, with one stricter retry when the first reply cannot be used. A stored row keeps the
tokens of every try, so the cost of a judgment is known even when it is read from the cache.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from trustir.annotate.authority import AuthorityJudge, Call, Judgement, JudgeTask
from trustir.annotate.authority_parse import UnscoredOptions, expected_value
from trustir.llm.base import LLMBackend, LLMError
from trustir.llm.ledger import Ledger
from trustir.llm.store import LabelStore, compute_missing, label_key, now_utc

USABLE = ("valid", "repaired", "partial")


class AuthorityJudgeErrors(RuntimeError):
    """Some calls failed in the backend; their labels are missing (the next run retries them)."""


@dataclass
class JudgeRun:
    """A judge's reading of a task, and the stored rows of its calls (with a ``unit`` column)."""

    judgement: Judgement
    labels: pl.DataFrame


def call_key(judge: AuthorityJudge, backend: LLMBackend, call: Call) -> str:
    """Content address of one call: model, judge templates, decoding, and the prompts."""
    content = {"prompt": call.prompt, "strict": call.strict}
    return label_key(backend.model_id, judge.prompt_hash, judge.decoding(), content)


def _row(judge: AuthorityJudge, backend: LLMBackend, key: str, call: Call, **vals: Any) -> dict:
    return {
        "key": key,
        "task": f"authority:{judge.name}",
        "item_id": call.unit,
        "model": backend.model_id,
        "prompt_hash": judge.prompt_hash,
        "created_at": now_utc(),
        **vals,
    }


def _score_rows(judge, backend, batch: Sequence[tuple[str, Call]]) -> list[dict]:
    """One row per call from the options' log-probs; a call whose answer gives no reading (no
    option scored, a NaN) is a row with status ``error`` and the reason, not a rating: the
    stage goes on, the reduce step skips it, and the next run asks again."""
    t0 = time.perf_counter()
    lp = backend.score([c.prompt for _, c in batch], judge.options)  # [len(batch), n_options]
    ms = (time.perf_counter() - t0) * 1000 / max(len(batch), 1)
    rows = []
    for (key, call), row_lp in zip(batch, lp, strict=True):
        answer = {"options": list(judge.options), "logprobs": [float(x) for x in row_lp]}
        n_in = backend.count_tokens(call.prompt)
        try:
            r = expected_value(row_lp, judge.values)
        except UnscoredOptions as exc:
            raw = json.dumps({**answer, "tries": 1, "error": str(exc)})
            rows.append(
                _row(judge, backend, key, call, label=None, score=None, raw=raw, status="error",
                     tokens_in=n_in, tokens_out=0, latency_ms=ms)
            )  # fmt: skip
            continue
        rows.append(
            _row(judge, backend, key, call, label=int(round(r.label)), score=r.expected,
                 raw=json.dumps(answer), status="ok", tokens_in=n_in, tokens_out=0,
                 latency_ms=ms)
        )  # fmt: skip
    return rows


def _generate_row(judge, backend, key: str, call: Call, task: JudgeTask) -> dict:
    """Greedy reply, parsed; one stricter retry if unusable. Tokens of every try are kept."""
    k = len(dict(task.lists)[call.unit])  # a list call's unit is its list id (see calls())
    replies, n_in, n_out = [], 0, 0
    t0 = time.perf_counter()
    status = "invalid"
    for prompt in (call.prompt, call.strict):
        if prompt is None or (replies and not judge.retry):
            break
        gen = backend.generate(prompt, n=1, temperature=0.0, max_new_tokens=judge.max_new_tokens(k))
        gen = gen[0]
        replies.append(gen.text)
        n_in, n_out = n_in + gen.tokens_in, n_out + gen.tokens_out
        status = judge.parse_status(call, gen.text, task)
        if status in USABLE:
            break
    raw = json.dumps({"replies": replies, "tries": len(replies), "parse": status})
    ms = (time.perf_counter() - t0) * 1000
    stored = "ok" if status in USABLE else "unparseable"
    return _row(judge, backend, key, call, label=None, score=None, raw=raw, status=stored,
                tokens_in=n_in, tokens_out=n_out, latency_ms=ms)  # fmt: skip


def tries_of(row: dict[str, Any]) -> int:
    """LLM calls behind a stored row: the ``tries`` it records (generated answers and errors),
    or 1 for a scored answer (one prompt scored is one call, by construction).

    Every row this module writes holds JSON in ``raw``; anything else is a row it did not write
    (an older parser version has other keys, see ``parser_version``), so it is an error naming
    the row, not a guessed count of 1.
    """
    try:
        answer = json.loads(row["raw"])
    except (KeyError, TypeError, ValueError):
        answer = None
    if isinstance(answer, dict) and "tries" in answer:
        return int(answer["tries"])
    if isinstance(answer, dict) and "logprobs" in answer:
        return 1
    raise ValueError(
        f"label row {row.get('key')!r} ({row.get('task')}): raw holds no 'tries' or "
        f"'logprobs' JSON, so it was not written by trustir.annotate.authority_run"
    )


def run_calls(
    judge: AuthorityJudge,
    calls: Sequence[Call],
    backend: LLMBackend,
    store: LabelStore,
    ledger: Ledger,
    flush_every: int = 32,
    show_progress: bool = True,
    desc: str = "",
    task: JudgeTask | None = None,
) -> tuple[dict[str, dict[str, Any] | None], pl.DataFrame]:
    """Rows of every call by unit (from the store when present, else computed and stored) and
    the labels table of the calls (with ``unit`` and ``tries`` columns). Generate-mode judges
    need the ``task`` their calls came from. Raises AuthorityJudgeErrors (after saving the
    rest) if some calls failed in the backend (an error row then records ``tries`` 0: no answer
    was billed). An answer that gives no reading is an ``error`` row and does not stop the run;
    it is counted in the ledger's errors and asked again next run."""
    from tqdm.auto import tqdm

    if judge.mode == "generate" and task is None:
        raise ValueError(f"{judge.name} generates: run_calls needs the task of its calls")
    keyed = [(call_key(judge, backend, c), c) for c in calls]
    items = dict(keyed)
    todo = len(store.missing(items.keys()))
    bar = tqdm(
        total=todo, desc=desc or judge.name, unit="call", disable=not show_progress or not todo
    )
    errors = 0  # calls that failed in the backend (LLMError)
    unscored = 0  # answers that gave no reading (error rows from _score_rows)

    def compute(batch: list[tuple[str, Call]]) -> list[dict[str, Any]]:
        nonlocal errors, unscored
        try:
            if judge.mode == "score":
                rows = _score_rows(judge, backend, batch)
                unscored += sum(r["status"] == "error" for r in rows)
            else:
                rows = [_generate_row(judge, backend, k, c, task) for k, c in batch]
        except LLMError as exc:
            errors += len(batch)
            rows = [
                _row(
                    judge,
                    backend,
                    k,
                    c,
                    label=None,
                    score=None,
                    raw=json.dumps({"tries": 0, "error": f"backend: {exc}"}),
                    status="error",
                    tokens_in=0,
                    tokens_out=0,
                    latency_ms=0.0,
                )  # fmt: skip
                for k, c in batch
            ]
        bar.update(len(batch))
        return rows

    with ledger.track(backend):
        stored = compute_missing(store, items, compute, flush_every=flush_every, ledger=ledger)
    bar.close()
    if errors or unscored:
        ledger.add(errors=errors + unscored)
    if errors:
        raise AuthorityJudgeErrors(
            f"{judge.name}: {errors} of {len(items)} calls failed in the backend; the other "
            "labels are saved and the next run retries only the failed ones"
        )
    by_unit = {c.unit: stored.get(k) for k, c in keyed}
    labels = store.frame([k for k, _ in keyed])
    unit_of = pl.DataFrame(
        {"key": [k for k, _ in keyed], "unit": [c.unit for _, c in keyed]},
        schema={"key": pl.String, "unit": pl.String},
    )
    labels = unit_of.join(labels, on="key", how="left").with_columns(
        pl.Series("tries", [tries_of(by_unit[c.unit] or {}) for _, c in keyed], dtype=pl.Int64)
    )
    return by_unit, labels


def run_judge(
    judge: AuthorityJudge,
    task: JudgeTask,
    backend: LLMBackend,
    store: LabelStore,
    ledger: Ledger,
    flush_every: int = 32,
    show_progress: bool = True,
    desc: str = "",
) -> JudgeRun:
    """``judge`` on ``task``: every call through the store, then the judge's reading."""
    by_unit, labels = run_calls(
        judge, judge.calls(task), backend, store, ledger, flush_every, show_progress, desc, task
    )
    return JudgeRun(judge.reduce(task, by_unit), labels)

"""Judging every bench sample with every authority judge, with and without page text (P1; the
``authority_judge`` stage), and the RAGAuth answers (the ``authority_rag`` stage). Every call goes
through the label store; costs are read from the stored rows, so they stay the cost of judging
even when a re-run reads everything from the cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from trustir.annotate.authority import JudgeTask, make_authority_judge
from trustir.annotate.authority_prompts import Item
from trustir.annotate.authority_run import run_calls, run_judge
from trustir.authority.params import AuthorityParams
from trustir.authority.ragauth import RagAnswer, answers_table, condition_docs
from trustir.authority.sample import BenchSample
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.ledger import COUNTS, Ledger
from trustir.llm.store import LabelStore
from trustir.scale.fanout import enabled, fan_out
from trustir.scale.params import FanoutParams

SCORES = {"row": pl.String, "item_id": pl.String, "score": pl.Float64}
PREFS = {"row": pl.String, "pair_id": pl.String, "pref": pl.Float64}
COSTS = {
    "row": pl.String,
    "bench": pl.String,
    "judge": pl.String,
    "text": pl.String,
    "items": pl.Int64,
    "calls": pl.Int64,
    "tokens_in": pl.Int64,
    "tokens_out": pl.Int64,
    "valid": pl.Int64,
    "repaired": pl.Int64,
    "partial": pl.Int64,
    "invalid": pl.Int64,
    "errors": pl.Int64,  # calls whose answer gave no reading (status "error"): no score
}


def row_name(bench: str, judge: str, text: str) -> str:
    """A row of metrics/authority.json: ``<bench>/<judge>/<format>/<text|notext>``."""
    return f"{bench}/{judge}/{text}"


def judge_task(sample: BenchSample, with_text: bool) -> JudgeTask:
    items = {
        i: Item(i, name, text)
        for i, name, text in sample.items.select("item_id", "name", "text").iter_rows()
    }
    lists = tuple(
        (lid, tuple(g.sort("position")["item_id"].to_list()))
        for (lid,), g in sample.lists.group_by(["list_id"], maintain_order=True)
    )
    pairs = tuple(sample.pairs.select("pair_id", "a", "b").iter_rows())
    return JudgeTask(sample.kind, items, pairs, lists, sample.text_label if with_text else None)


def text_modes(sample: BenchSample, wanted: list[str]) -> list[str]:
    """The text modes a bench runs: ``text`` only where it has page text."""
    return [m for m in wanted if m == "notext" or sample.text_label is not None]


@dataclass
class JudgeOutputs:
    labels: pl.DataFrame  # every stored call (labels table + row, unit, tries)
    scores: pl.DataFrame  # SCORES: a score per row and item asked about (null = none usable)
    prefs: pl.DataFrame  # PREFS: pair judges' debiased P(a over b) per pair
    costs: pl.DataFrame  # COSTS: per row
    run: dict[str, Any]  # this run's ledger (calls, cache hits, tokens, seconds)


def _cost(row: str, bench: str, judge, text: str, labels: pl.DataFrame, jm, items: int) -> dict:
    return {
        "row": row,
        "bench": bench,
        "judge": judge.name,
        "text": text,
        "items": items,
        "calls": int(labels["tries"].sum()),
        "tokens_in": int(labels["tokens_in"].fill_null(0).sum()),
        "tokens_out": int(labels["tokens_out"].fill_null(0).sum()),
        **{k: int(jm.status.get(k, 0)) for k in ("valid", "repaired", "partial", "invalid")},
        "errors": int((labels["status"] == "error").sum()),
    }


def open_store(store: str | None) -> LabelStore:
    return LabelStore(Path(store).expanduser() if store else None)


def judge_all(
    samples: list[BenchSample],
    params: AuthorityParams,
    llm: LLMParams,
    store: str | None = None,
    show_progress: bool = True,
    fanout: FanoutParams | None = None,
) -> JudgeOutputs:
    """Every (bench, text mode, judge) of ``params`` on the samples. Each such unit is one
    shard of :func:`trustir.scale.fanout.fan_out`: in this process one after the other, or on
    the Dask cluster ``fanout`` (params ``scale.fanout``) names; the same rows either way."""
    units = [
        (sample, text, name)
        for sample in samples
        for text in text_modes(sample, params.text)
        for name in params.judges
    ]
    done = fan_out(
        judge_unit,
        units,
        fanout,
        name="authority-judge",
        params=params,
        llm=llm,
        store=store,
        show_progress=show_progress and not enabled(fanout),
    )
    ledger = Ledger(run="authority-judge", model=done[0].model if done else "")
    for unit in done:
        ledger.add(**unit.counts)
    ledger.append()
    return JudgeOutputs(
        labels=pl.concat([u.labels for u in done], how="diagonal_relaxed"),
        scores=pl.DataFrame([r for u in done for r in u.scores], schema=SCORES, orient="row"),
        prefs=pl.DataFrame([r for u in done for r in u.prefs], schema=PREFS, orient="row"),
        costs=pl.DataFrame([u.cost for u in done], schema=COSTS),
        run=ledger.to_metrics(),
    )


@dataclass
class UnitOutputs:
    """One (bench, text mode, judge) of :func:`judge_all`: picklable, for a Dask worker."""

    labels: pl.DataFrame
    scores: list[tuple[str, str, float | None]]
    prefs: list[tuple[str, str, float]]
    cost: dict[str, Any]
    model: str
    counts: dict[str, float]  # this unit's ledger counters


def judge_unit(
    unit: tuple[BenchSample, str, str],
    params: AuthorityParams,
    llm: LLMParams,
    store: str | None,
    show_progress: bool = False,
) -> UnitOutputs:
    """Judge one sample in one text mode with one judge, through the store (a rescheduled
    unit reads every committed call back instead of asking again)."""
    sample, text, name = unit
    backend = make_backend(llm)  # one per process: cached by params
    ledger = Ledger(run="authority-judge", model=backend.model_id)
    task = judge_task(sample, text == "text")
    judge = make_authority_judge(name, params.levels, params.retry)
    row = row_name(sample.bench, name, text)
    with open_store(store) as st:
        run = run_judge(judge, task, backend, st, ledger, show_progress=show_progress, desc=row)
    jm = run.judgement
    counts = ledger.to_dict()
    return UnitOutputs(
        labels=run.labels.with_columns(pl.lit(row).alias("row")),
        scores=[(row, i, s) for i, s in jm.item_scores.items()],
        prefs=[(row, p, v) for p, v in (jm.pair_prefs or {}).items()],
        cost=_cost(row, sample.bench, judge, text, run.labels, jm, len(judge.items_asked(task))),
        model=backend.model_id,
        counts={k: counts[k] for k in COUNTS} | {"seconds": ledger.seconds},
    )


@dataclass
class RagOutputs:
    answers: pl.DataFrame  # ragauth.ANSWERS
    domains: pl.DataFrame  # domain, judged (the filter judge's score), pagerank
    labels: pl.DataFrame
    run: dict[str, Any]


def rag_all(
    questions: pl.DataFrame,
    docs: pl.DataFrame,
    params: AuthorityParams,
    llm: LLMParams,
    store: str | None = None,
    show_progress: bool = True,
) -> RagOutputs:
    """Judge the documents' domains (names only), then answer each question three ways."""
    rp = params.ragauth
    backend = make_backend(llm)
    ledger = Ledger(run="authority-rag", model=backend.model_id)
    domains = docs.select("domain", "pagerank").unique("domain").sort("domain")
    task = JudgeTask("domain", {d: Item(d, d) for d in domains["domain"].to_list()})
    with open_store(store) as st:
        judge = make_authority_judge(rp.filter_judge, params.levels, params.retry)
        jm = run_judge(judge, task, backend, st, ledger, show_progress=show_progress,
                       desc="ragauth domains")  # fmt: skip
        judged = jm.judgement.item_scores
        oracle = dict(domains.select("domain", "pagerank").iter_rows())
        shown = condition_docs(docs, judged, oracle, rp.keep)
        reader = RagAnswer(params.levels)
        rows, labels = run_calls(reader, reader.rag_calls(questions, shown), backend, st, ledger,
                                 show_progress=show_progress, desc="ragauth answers")  # fmt: skip
    ledger.append()
    return RagOutputs(
        answers=answers_table(questions, shown, rows),
        domains=domains.with_columns(
            pl.col("domain").replace_strict(judged, return_dtype=pl.Float64).alias("judged")
        ),
        labels=pl.concat([jm.labels, labels], how="diagonal_relaxed"),
        run=ledger.to_metrics(),
    )

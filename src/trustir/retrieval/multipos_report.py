"""P3's table: every loss x label regime variant and the untrained model, its pivot (losses x
regimes) and the Markdown report (PAPERS.md P3).

Apart from ``retrieval.multipos`` so that an edit of the report reruns the ``multipos`` stage
only, not the ``train_retriever`` matrix (its import closure leaves this module out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from trustir.evaluate.measures import min_rel_for
from trustir.report import Provenance, Table, per_query_rows
from trustir.retrieval.multipos import BASELINE_ROW, EvalSet, Scores, row_name

if TYPE_CHECKING:
    from trustir.params import Params


def multipos_table(
    variants: dict[tuple[str, str], Scores],
    baseline: Scores,
    ev: EvalSet,
    params: Params,
    provenance: Provenance | None = None,
) -> Table:
    """Rows ``<loss>/<regime>`` (in ``variants``' order) then ``untrained``; columns = measures;
    per-query values of every row (for paired significance tests)."""
    cells: dict[str, dict[str, float]] = {}
    per_query = []
    named = {row_name(*key): s for key, s in variants.items()}
    for row, s in [*named.items(), (BASELINE_ROW, baseline)]:
        cells[row] = {m: s.measures[m] for m in params.evaluate.measures}
        per_query.append(per_query_rows(s.per_query, row))
    return Table(
        name="multipos",
        title="Multi-positive retriever training (P3): loss × label regime",
        cells=cells,
        per_query=pl.concat(per_query),
        row_label="loss/regime",
        provenance=provenance or Provenance(),
        notes=table_notes(variants, ev, params),
    )


def _span(values: set[int]) -> str:
    """``"4"`` or ``"3–5"``: the range of a set of counts."""
    lo, hi = min(values, default=0), max(values, default=0)
    return str(lo) if lo == hi else f"{lo}–{hi}"


def table_notes(variants: dict[tuple[str, str], Scores], ev: EvalSet, params: Params) -> list[str]:
    """What the numbers are: the eval subset, the training budget, what the baseline is."""
    mp, tp = params.multipos, params.multipos.train
    subset = (
        "the whole corpus"
        if mp.eval_max_docs is None
        else f"their relevant documents, their top {mp.eval_pool_depth} BM25 documents and a "
        f"seeded corpus sample (multipos.eval_max_docs={mp.eval_max_docs}; qrels restricted to "
        "the subset)"
    )
    steps = {int(s.info["steps"]) for s in variants.values() if "steps" in s.info}
    queries = {int(p["queries"]) for s in variants.values() for p in s.info.get("phases", [])}
    return [
        f"Scored on {ev.describe()}: {subset}; binary measures count grade "
        f"≥ {min_rel_for(params.evaluate, params.data.source)}.",
        f"Each variant: {tp.model} trained {_span(steps)} steps on {_span(queries)} train queries "
        f"(batch {tp.batch_size}, lr {tp.lr:g}, max length {tp.max_length}, {tp.epochs} "
        f"epoch(s), ≤ {tp.max_positives} positives per query, in-batch negatives and "
        f"{tp.hard_negatives} BM25 hard negative(s) below rank {mp.skip_top}); "
        f"'{BASELINE_ROW}' = {tp.model} before training, on the same subset.",
    ]


def pivot_table(table: Table, losses: list[str], regimes: list[str], measure: str) -> Table:
    """``measure`` with losses as rows and regimes as columns; the baseline row repeats its
    value under every regime (it is trained on none)."""
    cells: dict[str, dict[str, float]] = {
        loss: {
            r: table.cells[row_name(loss, r)][measure]
            for r in regimes
            if row_name(loss, r) in table.cells
        }
        for loss in losses
    }
    if BASELINE_ROW in table.cells:
        cells[BASELINE_ROW] = dict.fromkeys(regimes, table.cells[BASELINE_ROW][measure])
    return Table(
        name=f"{table.name}_pivot",
        title=f"{measure}: loss (rows) × label regime (columns)",
        cells=cells,
        row_label="loss",
        provenance=table.provenance,
    )


def report_markdown(table: Table, pivot: Table, measure: str) -> str:
    """The Markdown report: the pivot, each variant against the untrained model (paired tests
    over queries on the pivot's measure), then every measure with notes and provenance."""
    from trustir.report.versus import versus_baseline

    parts = [pivot.to_markdown(provenance=False)]
    if BASELINE_ROW in table.cells and table.per_query is not None:
        parts.append(versus_baseline(table, BASELINE_ROW, measure).to_markdown(provenance=False))
    return "\n".join([*parts, table.to_markdown()])

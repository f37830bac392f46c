"""The retrieval table: every first-stage run scored on the test queries' ground-truth qrels
(report builds tables from evaluate's measures; evaluate never imports report)."""

from __future__ import annotations

import polars as pl

from trustir.evaluate.measures import evaluate_run, evaluation_qrels, min_rel_for
from trustir.evaluate.params import EvaluateParams
from trustir.report import Provenance, Table, per_query_rows


def retrieval_table(
    runs: dict[str, pl.DataFrame],
    qrels: pl.DataFrame,
    queries: pl.DataFrame,
    params: EvaluateParams,
    source: str,
    provenance: Provenance | None = None,
) -> Table:
    """Rows = runs (keys ``<name>.run`` or ``<name>``), columns = ``params.measures``."""
    min_rel = min_rel_for(params, source)
    gt = evaluation_qrels(qrels, queries)
    if gt.height == 0:
        raise ValueError("no ground-truth qrels for test queries: nothing to evaluate")
    cells: dict[str, dict[str, float]] = {}
    per_query = []
    for key, run in runs.items():
        name = key.removesuffix(".run")
        agg, pq = evaluate_run(run, gt, params.measures, min_rel)
        cells[name] = agg
        per_query.append(per_query_rows(pq, name))
    n_test = queries.filter(pl.col("split") == "test").height
    n_queries = gt.filter(pl.col("relevance") > 0)["query_id"].n_unique()
    dropped = n_test - n_queries
    notes = [
        f"{n_queries} test queries; binary measures count grade ≥ {min_rel}.",
        f"{dropped} test queries without a judgment above grade 0 dropped from evaluation.",
    ]
    lowest = gt["relevance"].min()
    if gt["relevance"].n_unique() > 1 and lowest >= min_rel:  # e.g. a 1-4 scale with min_rel 1
        notes.append(
            f"every judged document counts as relevant (lowest grade {lowest} ≥ {min_rel}): "
            "set evaluate.min_rel for this grade scale."
        )
    return Table(
        name="retrieval",
        title="First-stage retrieval",
        cells=cells,
        per_query=pl.concat(per_query),
        row_label="run",
        provenance=provenance or Provenance(),
        notes=notes,
    )

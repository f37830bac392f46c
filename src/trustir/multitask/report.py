"""The BOOM table (PAPERS.md P5): rows = schedules, merges, BOOM, incremental update; columns =
the measure per task, its in-domain and out-of-domain macro means, training examples.

Wall seconds describe a run, not a result (issue 20): they are in the run ledger
(``runs/data/...json``), not in this table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from trustir.multitask.boom import EXISTING_ROW, UNTRAINED_ROW
from trustir.multitask.evaluate import RowResult
from trustir.multitask.params import BoomParams
from trustir.report import Provenance, Table

EXAMPLES = "train_examples"


def column(measure: str, task: str) -> str:
    """``nDCG@10/<task>`` (also ``in_domain`` and ``ood``)."""
    return f"{measure}/{task}"


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else math.nan


def retrain_row(shuffle: RowResult) -> RowResult:
    """Retraining on everything = the ``shuffle`` model (same sets, schedule and budget)."""
    info = {**shuffle.info, "same_model_as": "shuffle"}
    return RowResult(
        "retrain", shuffle.scores, shuffle.per_query, shuffle.train_examples, shuffle.seconds, info
    )


def table_rows(
    bp: BoomParams,
    untrained: RowResult,
    schedules_dir: Path,
    merge_dir: Path,
    bags_dir: Path,
    incremental_dir: Path,
) -> list[RowResult]:
    """Every row in table order: untrained, schedules, merges, boom, existing, incremental,
    retrain (read from the stages' folders)."""
    schedules = {s: RowResult.load(schedules_dir / s) for s in bp.schedules}
    return [
        untrained,
        *schedules.values(),
        *[RowResult.load(merge_dir / m) for m in bp.merge.methods],
        RowResult.load(bags_dir),
        RowResult.load(incremental_dir / EXISTING_ROW),
        RowResult.load(incremental_dir),
        retrain_row(schedules["shuffle"]),
    ]


def boom_table(rows: Sequence[RowResult], bp: BoomParams, provenance: Provenance) -> Table:
    """The table of ``rows`` (in order) with per-query values of every per-task column."""
    m = bp.measure
    cells: dict[str, dict[str, float]] = {}
    parts = []
    for r in rows:
        cell = {column(m, t): r.scores[t] for t in [*bp.tasks, *bp.ood]}
        cell[column(m, "in_domain")] = _mean([r.scores[t] for t in bp.tasks])
        cell[column(m, "ood")] = _mean([r.scores[t] for t in bp.ood])
        cell[EXAMPLES] = r.train_examples
        cells[r.row] = cell
        parts.append(
            r.per_query.select(
                pl.lit(r.row).alias("row"),
                (pl.lit(f"{m}/") + pl.col("task")).alias("column"),
                "query_id",
                "value",
            )
        )
    return Table(
        name="boom",
        title="Multi-task training and model merging (P5): schedules, merges, BOOM",
        cells=cells,
        higher_is_better={EXAMPLES: False},
        per_query=pl.concat(parts),
        row_label="row",
        provenance=provenance,
        notes=table_notes(rows, bp) + findings(cells, bp),
    )


def table_notes(rows: Sequence[RowResult], bp: BoomParams) -> list[str]:
    """What the rows and columns are."""
    tp, inc, bag = bp.train, bp.incremental, bp.bagging
    evals = f"≤ {bp.eval_max_queries} test queries" if bp.eval_max_queries else "all test queries"
    docs = f"≤ {bp.eval_max_docs} documents" if bp.eval_max_docs else "the whole task corpus"
    return [
        f"In-domain tasks (trained): {', '.join(bp.tasks)}; out-of-domain (never trained on): "
        f"{', '.join(bp.ood)}. {bp.measure}/in_domain and /ood are macro means over tasks; each "
        f"task is scored on {evals} against {docs}.",
        f"Every model starts from {tp.model} (batch {tp.batch_size}, each batch from one task, "
        f"lr {tp.lr:g}, max length {tp.max_length}, {tp.epochs} epoch(s), ≤ "
        f"{bp.max_train_per_task or 'all'} training queries per task). merge/<method>: one expert "
        f"per in-domain task merged; boom: {bag.models} models on {bag.ratio:g} bags merged by "
        f"{bag.method}; existing: trained on {', '.join(bp.core_tasks)}; incremental: "
        f"{inc.new_task} + {inc.old_sample:g} of the core sets from the {inc.init} model, "
        f"merged into it by {inc.method}; retrain = the shuffle model (everything from scratch).",
        f"{EXAMPLES}: training queries seen (the compute measure; wall seconds are per run, in "
        f"runs/); '{UNTRAINED_ROW}' is {tp.model} before training; "
        f"'{EXISTING_ROW}' is the model the incremental update starts from (its cost is sunk).",
    ]


def findings(cells: dict[str, dict[str, float]], bp: BoomParams) -> list[str]:
    """The paper's two questions answered from the table's numbers."""
    m, out = bp.measure, []
    ind, ood = column(m, "in_domain"), column(m, "ood")
    if "boom" in cells and "shuffle" in cells:
        b, s = cells["boom"], cells["shuffle"]
        out.append(
            f"BOOM vs batch-level shuffling: in-domain {b[ind]:.4f} vs {s[ind]:.4f} "
            f"({b[ind] - s[ind]:+.4f}), out-of-domain {b[ood]:.4f} vs {s[ood]:.4f} "
            f"({b[ood] - s[ood]:+.4f}); BOOM ≥ shuffle in-domain: {b[ind] >= s[ind]}, "
            f"out-of-domain: {b[ood] >= s[ood]}."
        )
    if "incremental" in cells and "retrain" in cells:
        i, r = cells["incremental"], cells["retrain"]
        ex = i[EXAMPLES] / r[EXAMPLES] if r[EXAMPLES] else math.nan
        out.append(
            f"Incremental update vs retraining: in-domain {i[ind]:.4f} vs {r[ind]:.4f} "
            f"({i[ind] - r[ind]:+.4f}), out-of-domain {i[ood]:.4f} vs {r[ood]:.4f} "
            f"({i[ood] - r[ood]:+.4f}), at {ex:.2f}× the training examples."
        )
    return out


def score_table(table: Table, bp: BoomParams) -> Table:
    """The measure columns only (the plot: counts have another scale)."""
    cols = [column(bp.measure, t) for t in ["in_domain", "ood", *bp.tasks, *bp.ood]]
    cells = {r: {c: v[c] for c in cols} for r, v in table.cells.items()}
    return Table(
        name=f"{table.name}_scores",
        title=f"{bp.measure}: in-domain, out-of-domain and per task",
        cells=cells,
        row_label=table.row_label,
        provenance=table.provenance,
    )


def report_markdown(table: Table, bp: BoomParams) -> str:
    """The in-domain / out-of-domain summary first, then the full table with notes and
    provenance."""
    m = bp.measure
    keep = [column(m, "in_domain"), column(m, "ood"), EXAMPLES]
    summary = Table(
        name=f"{table.name}_summary",
        title=f"{m}: in-domain vs out-of-domain, and the training cost",
        cells={r: {c: v[c] for c in keep} for r, v in table.cells.items()},
        higher_is_better={EXAMPLES: False},
        row_label=table.row_label,
        provenance=table.provenance,
    )
    return summary.to_markdown(provenance=False) + "\n" + table.to_markdown()

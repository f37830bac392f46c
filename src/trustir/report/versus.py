"""Every row of a table against one baseline row: the delta of a measure and paired tests over
the per-query values behind it (a report section, e.g. "trained vs untrained" in P3)."""

from __future__ import annotations

import polars as pl

from trustir.evaluate.significance import paired_test
from trustir.report.table import Table


def versus_baseline(
    table: Table, baseline: str, column: str, tests: tuple[str, ...] = ("t", "fisher")
) -> Table:
    """Rows = the table's rows but ``baseline``; columns ``Δ <column>`` and ``p (<test>)`` for
    each test, paired over the queries both rows scored. Raises if per-query values are absent."""
    if table.per_query is None:
        raise ValueError(f"table {table.name!r} keeps no per-query values: nothing to test")
    pq = table.per_query.filter(pl.col("column") == column)
    base = pq.filter(pl.col("row") == baseline).select("query_id", "value")
    if base.height == 0:
        raise ValueError(f"table {table.name!r} has no per-query {column} for row {baseline!r}")
    cells: dict[str, dict[str, float]] = {}
    for row in table.rows:
        if row == baseline:
            continue
        other = pq.filter(pl.col("row") == row).select("query_id", "value")
        joined = base.join(other, on="query_id", suffix="_row")  # paired by query
        results = {t: paired_test(joined["value"], joined["value_row"], t) for t in tests}
        first = next(iter(results.values()))
        cells[row] = {f"Δ {column}": first.delta, **{f"p ({t})": r.p for t, r in results.items()}}
    hib = {f"p ({t})": False for t in tests}
    names = {"t": "paired t-test", "fisher": "Fisher randomization test"}
    return Table(
        name=f"{table.name}_vs_{baseline}",
        title=f"{column} against '{baseline}', paired over queries",
        cells=cells,
        higher_is_better=hib,
        row_label=table.row_label,
        provenance=table.provenance,
        notes=[
            f"Δ = row − {baseline}; p: two-sided "
            + ", ".join(names.get(t, t) for t in tests)
            + f" over the {base.height} queries."
        ],
    )

"""Run the contract suites with Great Expectations and turn its results into a plain report.

Great Expectations costs seconds to import, so it is imported here inside functions only, and one
ephemeral context serves every table of a :func:`validate_tables` call.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa

from trustir.validate.suites import ID_COLUMNS, SUITES, Grades, Rule, rules_for

#: how many offending values a rule reports (GX's partial unexpected list).
N_EXAMPLES = 5
#: a row-number column added to the pandas copy, to name rows whose ids are null.
ROW = "__row__"

Outcome = dict[str, Any]
Report = dict[str, dict[str, Outcome]]


class ValidationFailed(Exception):
    """Some table breaks its data contract; ``report`` holds every rule's outcome."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


def validate_tables(tables: dict[str, pl.DataFrame], grades: Grades = None) -> Report:
    """Run every suite whose table is present (tables without a suite are ignored).

    Returns a JSON-able report ``{table: {rule: {"success", "unexpected_count", "examples"}}}``
    (plus ``"observed"`` / ``"error"`` where GX gave one). Cross-table rules (qrels ids known in
    queries and corpus, links between known domains) run when both tables are given.
    ``grades`` bounds qrels relevance (``(0, 3)`` for the world); None (real collections) only
    requires integer grades, on any scale (1-4, 0-4, 0-2, Touché's -2..2).
    Raises :class:`ValidationFailed` naming, for each failed rule, table, rule, count and up to
    five offending ids or values.
    """
    present = [t for t in SUITES if t in tables]
    if not present:
        return {}
    source = _pandas_source()
    report = {t: _validate_table(source, t, tables, grades) for t in present}
    failures = failure_lines(report)
    if failures:
        raise ValidationFailed(failure_message(failures), report)
    return report


def failure_lines(report: Report) -> list[str]:
    """One line per failed rule: ``table: rule — N rows fail (e.g. a, b)``."""
    return [
        f"{table}: {rule} — {_what_failed(outcome)}"
        for table, outcomes in report.items()
        for rule, outcome in outcomes.items()
        if not outcome["success"]
    ]


def failure_message(lines: list[str]) -> str:
    if len(lines) == 1:
        return f"validation failed: {lines[0]}"
    return f"validation failed: {len(lines)} rules\n" + "\n".join(f"  {x}" for x in lines)


def _what_failed(outcome: Outcome) -> str:
    if "error" in outcome:
        return f"could not be checked: {outcome['error']}"
    if "observed" in outcome:
        return f"observed {outcome['observed']}"
    text = f"{outcome['unexpected_count']} rows fail"
    if outcome["examples"]:
        text += f" (e.g. {', '.join(outcome['examples'])})"
    return text


def _pandas_source() -> Any:
    """A pandas data source in a fresh ephemeral GX context, with progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context.data_sources.add_pandas(name="trustir")


def to_pandas(df: pl.DataFrame) -> pd.DataFrame:
    """``df`` as pandas, integer columns as nullable ``Int64`` & co (not float64 where null)."""
    return df.to_pandas(types_mapper=_NULLABLE_INTS.get)


_NULLABLE_INTS = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
}


def _validate_table(
    source: Any, table: str, tables: dict[str, pl.DataFrame], grades: Grades
) -> dict[str, Outcome]:
    """Validate one table against its suite; return ``{rule name: outcome}`` in suite order."""
    df = tables[table]
    rules = rules_for(table, tables, grades)
    ids = [c for c in ID_COLUMNS[table] if c in df.columns]
    frame = to_pandas(df.with_row_index(ROW))
    batch = (
        source.add_dataframe_asset(name=table)
        .add_batch_definition_whole_dataframe(table)
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result_format = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": N_EXAMPLES,
        "unexpected_index_column_names": [*ids, ROW],
    }
    result = batch.validate(_suite(table, rules), result_format=result_format)
    by_rule = {r.expectation_config.meta["rule"]: r for r in result.results}
    return {r.name: _outcome(by_rule[r.name], r, ids, df.columns, df.height) for r in rules}


def _suite(table: str, rules: list[Rule]) -> Any:
    import great_expectations as gx

    expectations = [
        getattr(gx.expectations, r.expectation)(**r.kwargs, meta={"rule": r.name}) for r in rules
    ]
    return gx.ExpectationSuite(name=table, expectations=expectations)


def _outcome(result: Any, rule: Rule, ids: list[str], columns: list[str], n_rows: int) -> Outcome:
    """The report entry of one GX result: success, unexpected count, readable examples."""
    body = result.result or {}
    outcome: Outcome = {"success": bool(result.success)}
    info = result.exception_info or {}
    errors = [info] if "raised_exception" in info else list(info.values())
    raised = [e for e in errors if e.get("raised_exception")]
    if raised:
        outcome |= {"unexpected_count": n_rows, "examples": []}
        outcome["error"] = str(raised[0].get("exception_message"))
        return outcome
    if "unexpected_count" in body:
        outcome["unexpected_count"] = int(body["unexpected_count"])
        outcome["examples"] = _examples(body, rule, ids)
        return outcome
    outcome |= {"unexpected_count": 0 if result.success else n_rows, "examples": []}
    if "observed_value" in body:
        outcome["observed"] = _show(body["observed_value"])
    elif not result.success:
        outcome["observed"] = "columns " + ", ".join(c for c in columns if c != ROW)
    return outcome


def _examples(body: dict[str, Any], rule: Rule, ids: list[str]) -> list[str]:
    """Offending ids (for rules on an id column) or ``row-id (value)`` pairs (for the others)."""
    rows = body.get("partial_unexpected_index_list") or []
    values = body.get("partial_unexpected_list") or []
    if len(rule.columns) > 1:
        return ["/".join(_show(v.get(c)) for c in rule.columns) for v in values]
    column = rule.columns[0]
    if column in ids:
        return [_show(row.get(column)) if _present(row.get(column)) else _row(row) for row in rows]
    return [f"{_label(row, ids)} ({_show(row.get(column), quote=True)})" for row in rows]


def _label(row: dict[str, Any], ids: list[str]) -> str:
    """A row's ids joined by '/', or its row number where an id is null."""
    if ids and all(_present(row.get(c)) for c in ids):
        return "/".join(str(row[c]) for c in ids)
    return _row(row)


def _row(row: dict[str, Any]) -> str:
    return f"row {row.get(ROW)}"


def _present(value: Any) -> bool:
    """False for None, NaN and pandas' NA."""
    return not (value is None or value is pd.NA or (isinstance(value, float) and value != value))


def _show(value: Any, quote: bool = False) -> str:
    """A value as short readable text: null for missing, repr for strings when quoting."""
    if not _present(value):
        return "null"
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value) if quote and isinstance(value, str) else str(value)

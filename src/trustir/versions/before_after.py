"""The re-annotation's comparison: every metrics file before/after/delta as Markdown, headed by
``trustir compare HEAD EXP`` (the paper tables with paired tests)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trustir.versions.overrides import MISSING


def flatten(cells: Any, prefix: str = "") -> dict[str, Any]:
    """``{"run": {"llm_calls": 3}}`` -> ``{"run.llm_calls": 3}`` (leaves keep their order)."""
    if not isinstance(cells, Mapping):
        return {prefix: cells}
    flat: dict[str, Any] = {}
    for key, value in cells.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def fmt(value: Any) -> str:
    """A metric cell: ints as they are, floats with 4 decimals, missing or NaN as a dash."""
    if value is None or value is MISSING or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def delta(before: Any, after: Any) -> str:
    """``after - before`` with its sign, for two numbers; a dash otherwise."""
    b, a = _number(before), _number(after)
    if a is None or b is None:
        return "–"
    d = a - b
    if d == 0:
        return "0"
    if isinstance(before, int) and isinstance(after, int):
        return f"{int(d):+d}"
    return f"{d:+.4f}"


def comparison_table(path: str, before: Any, after: Any) -> str:
    """One metrics file as ``| metric | before | after | Δ |`` rows."""
    b, a = flatten(before or {}), flatten(after or {})
    lines = [f"## {path}", "", "| metric | before | after | Δ |", "|---|---:|---:|---:|"]
    for key in [*b, *(k for k in a if k not in b)]:
        old, new = b.get(key, MISSING), a.get(key, MISSING)
        lines.append(f"| {key} | {fmt(old)} | {fmt(new)} | {delta(old, new)} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(
    name: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reasons: Sequence[str],
    revs: tuple[str, str],
) -> str:
    """The artifact: why the experiment ran, then every metrics file before/after/delta."""
    head, exp = (r[:7] for r in revs)
    lines = [
        f"# Re-annotation: experiment `{name}`",
        "",
        f"Baseline `HEAD` (`{head}`) -> experiment `{name}` (`{exp}`). "
        f"In a shell: `dvc exp show`, `dvc exp diff HEAD {name}`.",
        "",
        "Why:",
        *[f"- {reason}" for reason in reasons or ["forced"]],
        "",
    ]
    paths = [*before, *(p for p in after if p not in before)]
    tables = [comparison_table(p, before.get(p), after.get(p)) for p in paths]
    return "\n".join(lines) + "\n" + ("\n".join(tables) or "_no metrics/*.json_\n")


def paper_tables_markdown(root: Path, exp: str) -> str:
    """``trustir compare HEAD EXP``: the paper tables side by side with paired tests (a note
    instead when they cannot be read, so the artifact is still published)."""
    from trustir.report.compare import compare_markdown, compare_revisions
    from trustir.report.revision import RevisionError

    try:
        diffs, ra, rb = compare_revisions(root, "HEAD", exp)
    except RevisionError as exc:
        return f"_paper tables not compared: {exc}_\n"
    if not diffs:
        return "_no paper tables at HEAD or in the experiment_\n"
    return compare_markdown(diffs, ra, rb)

"""``trustir compare A B``: every paper table of two revisions side by side, with the delta of
each cell and a paired significance test over the per-query values behind it.

A cell's test pairs the queries (or items) both revisions scored for that row and measure; a
cell whose table keeps no per-query values (e.g. counts) gets a delta and no p-value. A cell
where neither revision's 95 % interval excludes the other's value is marked ``≈`` (within
noise). A revision whose DVC-tracked data cannot be reached is compared from its git-tracked
metrics alone: deltas without p-values, marked ``†``, with one line saying why.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from trustir.evaluate.significance import paired_test
from trustir.report.catalog import TABLES, TableEntry, table_entry
from trustir.report.provenance import Provenance
from trustir.report.revision import Revision, RevisionError
from trustir.report.table import Table


@dataclass(frozen=True)
class CellDiff:
    """One cell of A and B; ``p`` from the paired test over ``n`` shared queries (or None)."""

    a: float | None
    b: float | None
    p: float | None = None
    n: int = 0
    ci_a: tuple[float, float] | None = None  # A's 95 % interval (None: no per-query values)
    ci_b: tuple[float, float] | None = None

    @property
    def within_noise(self) -> bool:
        """Neither known interval excludes the other revision's value (and one is known)."""
        if self.a is None or self.b is None or (self.ci_a is None and self.ci_b is None):
            return False
        a_ok = self.ci_b is None or self.ci_b[0] <= self.a <= self.ci_b[1]
        b_ok = self.ci_a is None or self.ci_a[0] <= self.b <= self.ci_a[1]
        return a_ok and b_ok

    @property
    def delta(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a


@dataclass
class TableDiff:
    """A paper table compared across two revisions (``missing`` names a side that lacks it)."""

    name: str
    title: str
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    cells: dict[str, dict[str, CellDiff]] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    row_label: str = "run"
    provenance: tuple[Provenance, Provenance] | None = None
    missing: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)  # why a side has metrics only (no p)


def _value(table: Table, row: str, col: str) -> float | None:
    v = table.cells.get(row, {}).get(col)
    if v is None or not isinstance(v, int | float) or math.isnan(float(v)):
        return None
    return float(v)


def _per_query(table: Table, row: str, col: str) -> pl.DataFrame | None:
    if table.per_query is None:
        return None
    pq = table.per_query.filter((pl.col("row") == row) & (pl.col("column") == col))
    return pq.select("query_id", "value") if pq.height else None


def compare_tables(a: Table, b: Table, test: str = "t", seed: int = 0) -> TableDiff:
    """Cell-by-cell comparison of the same table at two revisions (rows/columns: the union)."""
    rows = list(dict.fromkeys([*a.rows, *b.rows]))
    columns = list(dict.fromkeys([*a.columns, *b.columns]))
    cells: dict[str, dict[str, CellDiff]] = {}
    for row in rows:
        cells[row] = {}
        for col in columns:
            va, vb = _value(a, row, col), _value(b, row, col)
            p, n = None, 0
            qa, qb = _per_query(a, row, col), _per_query(b, row, col)
            if qa is not None and qb is not None:
                joined = qa.join(qb, on="query_id", suffix="_b")  # paired by query
                n = joined.height
                if n:
                    p = paired_test(joined["value"], joined["value_b"], test, seed).p
            cells[row][col] = CellDiff(va, vb, p, n, a.interval(row, col), b.interval(row, col))
    hib = {c: b.higher_is_better.get(c, a.higher_is_better.get(c, True)) for c in columns}
    return TableDiff(
        name=b.name,
        title=b.title,
        rows=rows,
        columns=columns,
        cells=cells,
        higher_is_better=hib,
        row_label=b.row_label,
        provenance=(a.provenance, b.provenance),
    )


def compare_revisions(
    root: str | Path,
    rev_a: str,
    rev_b: str,
    tables: Sequence[str] | None = None,
    test: str = "t",
    seed: int = 0,
) -> tuple[list[TableDiff], Revision, Revision]:
    """Every catalog table (or those named) at ``rev_a`` and ``rev_b``, compared.

    A table that neither revision has is left out; one that only one side has is returned with
    ``missing`` naming the other. Unreadable data raises :class:`RevisionError`.
    """
    ra, rb = Revision(root, rev_a), Revision(root, rev_b)
    _ = ra.sha, rb.sha  # fail early on an unknown revision
    entries: list[TableEntry] = [table_entry(t) for t in tables] if tables else list(TABLES)
    diffs = []
    for entry in entries:
        has_a, has_b = ra.has_table(entry), rb.has_table(entry)
        if not (has_a or has_b):
            if tables:
                raise RevisionError(
                    f"neither {ra.label} nor {rb.label} has table {entry.name!r} "
                    f"(metrics/{entry.name}.json)"
                )
            continue
        if not (has_a and has_b):
            lacking = ra.label if not has_a else rb.label
            diffs.append(TableDiff(entry.name, entry.paper, missing=[lacking]))
            continue
        diff = compare_tables(ra.load_table(entry), rb.load_table(entry), test, seed)
        diff.fallbacks = [r.fallbacks[entry.name] for r in (ra, rb) if entry.name in r.fallbacks]
        diffs.append(diff)
    return diffs, ra, rb


# --- rendering ---------------------------------------------------------------------------------
def _num(v: float | None, digits: int) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def cell_text(c: CellDiff, alpha: float, digits: int = 3, metrics_only: bool = False) -> str:
    """``0.601 → 0.612 (+0.011, p=0.031)*``: A, B, delta, p-value, ``*`` when p < alpha, ``≈``
    when within noise, ``†`` when the delta comes from metrics only (``metrics_only``)."""
    if c.delta is None:
        return f"{_num(c.a, digits)} → {_num(c.b, digits)}"
    inner = f"{c.delta:+.{digits}f}"
    if c.p is not None:
        inner += f", p={c.p:.3g}"
    mark = "*" if c.p is not None and c.p < alpha else ""
    mark += "≈" if c.within_noise else ""
    mark += "†" if metrics_only and c.p is None else ""
    return f"{_num(c.a, digits)} → {_num(c.b, digits)} ({inner}){mark}"


def _changes(pa: Provenance, pb: Provenance) -> list[str]:
    """What differs in the two provenances: params and input data hashes."""
    out = []
    for key in sorted(set(pa.params) | set(pb.params)):
        if pa.params.get(key) != pb.params.get(key):
            out.append(
                f"`{key}`: {pa.params.get(key, 'default')} → {pb.params.get(key, 'default')}"
            )
    changed = [k for k in sorted(set(pa.data) | set(pb.data)) if pa.data.get(k) != pb.data.get(k)]
    if changed:
        out.append("data changed: " + ", ".join(f"`{k}`" for k in changed))
    return out


def _legend(ra: Revision, rb: Revision, test: str, alpha: float) -> str:
    name = {"t": "paired t-test", "fisher": "Fisher randomization test"}.get(test, test)
    return (
        f"A = `{ra.label}` ({(ra.sha or 'workspace')[:7]}), B = `{rb.label}` "
        f"({(rb.sha or 'workspace')[:7]}); cells: A → B (B − A, p of a {name} over the "
        f"queries both scored); * = p < {alpha:g}; ≈ = within noise (neither revision's 95 % "
        "interval excludes the other's value); † = from git-tracked metrics only, no p-value"
    )


def diff_markdown(diff: TableDiff, alpha: float = 0.05) -> str:
    """One compared table as Markdown."""
    lines = [f"## {diff.title}", ""]
    if diff.missing:
        return "\n".join(lines + [f"_missing at {', '.join(diff.missing)}_", ""])
    arrows = {c: "↑" if diff.higher_is_better.get(c, True) else "↓" for c in diff.columns}
    lines.append("| " + " | ".join([diff.row_label] + [f"{c} {arrows[c]}" for c in diff.columns]))
    lines[-1] += " |"
    lines.append("|" + "---|" * (len(diff.columns) + 1))
    only = bool(diff.fallbacks)
    for row in diff.rows:
        vals = [cell_text(diff.cells[row][c], alpha, metrics_only=only) for c in diff.columns]
        lines.append("| " + " | ".join([row, *vals]) + " |")
    for why in diff.fallbacks:
        lines += ["", f"_† no p-values: {why}_"]
    if diff.provenance:
        changes = _changes(*diff.provenance)
        lines += ["", "_changes: " + ("; ".join(changes) if changes else "none recorded") + "_"]
    return "\n".join(lines) + "\n"


def compare_markdown(
    diffs: list[TableDiff], ra: Revision, rb: Revision, test: str = "t", alpha: float = 0.05
) -> str:
    """The whole comparison as one Markdown document."""
    head = [f"# trustir compare `{ra.label}` vs `{rb.label}`", "", _legend(ra, rb, test, alpha), ""]
    return "\n".join(head) + "\n" + "\n".join(diff_markdown(d, alpha) for d in diffs)


def compare_html(
    diffs: list[TableDiff], ra: Revision, rb: Revision, test: str = "t", alpha: float = 0.05
) -> str:
    """The comparison as one static HTML page (no scripts, no network)."""
    from trustir.report.html import page

    parts = [f"<p class='legend'>{html.escape(_legend(ra, rb, test, alpha))}</p>"]
    for d in diffs:
        parts.append(f"<section><h2>{html.escape(d.title)}</h2>")
        if d.missing:
            parts.append(f"<p><em>missing at {html.escape(', '.join(d.missing))}</em></p>")
            parts.append("</section>")
            continue
        head = "".join(f"<th>{html.escape(c)}</th>" for c in d.columns)
        parts.append(f"<table><thead><tr><th>{html.escape(d.row_label)}</th>{head}</tr></thead>")
        parts.append("<tbody>")
        for row in d.rows:
            tds = []
            for c in d.columns:
                cell = d.cells[row][c]
                sig = cell.p is not None and cell.p < alpha
                cls = " class='sig'" if sig else (" class='noise'" if cell.within_noise else "")
                text = cell_text(cell, alpha, metrics_only=bool(d.fallbacks))
                tds.append(f"<td{cls}>{html.escape(text)}</td>")
            parts.append(f"<tr><th>{html.escape(row)}</th>{''.join(tds)}</tr>")
        parts.append("</tbody></table>")
        for why in d.fallbacks:
            parts.append(f"<p class='prov'>† no p-values: {html.escape(why)}</p>")
        if d.provenance:
            changes = _changes(*d.provenance)
            text = "; ".join(changes) if changes else "none recorded"
            parts.append(f"<p class='prov'>changes: {html.escape(text)}</p>")
        parts.append("</section>")
    return page(f"trustir compare {ra.label} vs {rb.label}", "\n".join(parts))

"""A paper table: rows x columns of measures, the per-query values behind each cell, provenance.

One table is stored as three files that DVC tracks:
``metrics/<name>.json`` (``{row: {column: value}}``, a DVC metric), ``<data_dir>/<name>.per_query
.parquet`` (row, column, query_id, value) and ``<data_dir>/<name>.table.json`` (the layout:
titles, order, higher-is-better, provenance, and the table's noise). Markdown and plots are
rendered from those.

Every cell with per-query (or per-item) values behind it carries its 95 % bootstrap interval,
and every such table states its n and the smallest difference its size could detect
(``trustir.report.noise``; settings: the ``report`` params section). Numbers are written at the
precision ``trustir.io.stable`` states (6 significant digits), so float noise leaves the bytes
alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from trustir.io.atomic import write_json, write_parquet, write_text
from trustir.io.stable import round_values, stable_numbers
from trustir.report.noise import SMOKE_NOTE, STUDY_LINK, Bootstrap, TableNoise, table_noise
from trustir.report.provenance import Provenance

PER_QUERY_SCHEMA = {
    "row": pl.String,
    "column": pl.String,
    "query_id": pl.String,
    "value": pl.Float64,
}


@dataclass
class Table:
    """One paper table; build it, then ``save`` it and ``to_markdown``/``plot`` it."""

    name: str  # file stem: metrics/<name>.json
    title: str
    cells: dict[str, dict[str, float]]  # {row: {column: value}}
    higher_is_better: dict[str, bool] = field(default_factory=dict)  # per column; default True
    per_query: pl.DataFrame | None = None  # PER_QUERY_SCHEMA
    row_label: str = "run"
    provenance: Provenance = field(default_factory=Provenance)
    notes: list[str] = field(default_factory=list)
    #: how the cells' intervals are drawn (stages set it from ``params.report.settings()``)
    noise_settings: Bootstrap = field(default_factory=Bootstrap)
    stored_noise: TableNoise | None = field(default=None, repr=False)  # as saved (load_table)

    def set_noise(self, settings: Bootstrap) -> Table:
        """Draw the intervals with ``settings`` (a stage passes ``params.report.settings()``)."""
        self.noise_settings, self.stored_noise = settings, None
        return self

    @property
    def noise(self) -> TableNoise | None:
        """Intervals, n and MDE from the per-query values (rounded as saved); None without."""
        if self.stored_noise is None and self.per_query is not None:
            pq = round_values(self.per_query.select(list(PER_QUERY_SCHEMA)))
            self.stored_noise = table_noise(self.cells, pq, self.noise_settings)
        return self.stored_noise

    def interval(self, row: str, column: str) -> tuple[float, float] | None:
        """The cell's interval (None when no per-query values lie behind it)."""
        noise = self.noise
        return None if noise is None else noise.intervals.get(row, {}).get(column)

    def noise_markdown(self, study_link: str = f"../{STUDY_LINK}") -> list[str]:
        """The table's noise statement and, when smoke-sized, the plain warning (Markdown;
        ``study_link`` is relative to ``reports/``)."""
        noise = self.noise
        if noise is None:
            return []
        lines = [f"_{noise.note()}_"]
        if noise.smoke:
            lines.append(
                f"**{SMOKE_NOTE}**: the intervals are wider than the spread of the rows "
                f"([study figures]({study_link}))."
            )
        return lines

    @property
    def rows(self) -> list[str]:
        return list(self.cells)

    @property
    def columns(self) -> list[str]:
        cols: list[str] = []
        for row in self.cells.values():
            cols.extend(c for c in row if c not in cols)
        return cols

    def better(self, column: str) -> bool:
        return self.higher_is_better.get(column, True)

    def best_row(self, column: str) -> str | None:
        """The row with the best value in ``column`` (None if the column is empty)."""
        vals = {
            r: v[column]
            for r, v in self.cells.items()
            if column in v and v[column] is not None and not math.isnan(v[column])
        }
        if not vals:
            return None
        pick = max if self.better(column) else min
        return pick(vals, key=vals.get)

    # --- storage -------------------------------------------------------------------------------
    def save(self, metrics_dir: str | Path, data_dir: str | Path) -> None:
        """Write the metrics JSON, the per-query parquet and the layout file (atomically)."""
        metrics_dir, data_dir = Path(metrics_dir), Path(data_dir)
        if self.per_query is not None:
            pq = self.per_query.select(
                [pl.col(c).cast(t) for c, t in PER_QUERY_SCHEMA.items()]
            ).sort(["row", "column", "query_id"])
            write_parquet(round_values(pq), data_dir / f"{self.name}.per_query.parquet")
        noise = self.noise
        layout = {
            "name": self.name,
            "title": self.title,
            "rows": self.rows,
            "columns": self.columns,
            "higher_is_better": {c: self.better(c) for c in self.columns},
            "row_label": self.row_label,
            "provenance": self.provenance.to_dict(),
            "notes": self.notes,
            "noise": None if noise is None else noise.to_dict(),
        }
        write_json(stable_numbers(layout), data_dir / f"{self.name}.table.json")
        write_json(stable_numbers(self.cells), metrics_dir / f"{self.name}.json")

    # --- rendering -----------------------------------------------------------------------------
    def to_markdown(self, digits: int = 4, provenance: bool = True) -> str:
        """A Markdown table (best value per column in bold; ``value [lo, hi]`` where the cell has
        an interval), its notes, its noise statement and its provenance (``provenance=False``
        leaves that line out, for a table shown above another)."""
        cols = self.columns
        best = {c: self.best_row(c) for c in cols}
        arrows = {c: "↑" if self.better(c) else "↓" for c in cols}
        lines = [
            f"## {self.title}",
            "",
            "| " + " | ".join([self.row_label] + [f"{c} {arrows[c]}" for c in cols]) + " |",
            "|" + "---|" * (len(cols) + 1),
        ]
        for row, vals in self.cells.items():
            cells = []
            for c in cols:
                v = vals.get(c)
                txt = "–" if v is None else _fmt(v, digits)
                txt = f"**{txt}**" if best[c] == row and len(self.cells) > 1 else txt
                ci = self.interval(row, c)
                cells.append(txt if ci is None else f"{txt} {interval_text(ci, digits - 1)}")
            lines.append("| " + " | ".join([row, *cells]) + " |")
        lines += ["", *[f"_{n}_" for n in self.notes]]
        noise = self.noise_markdown()
        if noise:
            lines += ["", *noise]
        if provenance:
            lines += ["", _provenance_markdown(self.provenance)]
        return "\n".join(lines).rstrip() + "\n"

    def write_markdown(self, target: str | Path) -> Path:
        return write_text(self.to_markdown(), target)

    def plot(self, target: str | Path) -> Path:
        """A grouped bar chart of the table (one group per column), saved as PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        from trustir.io.atomic import write_with

        cols, rows = self.columns, self.rows
        width = 0.8 / max(len(rows), 1)
        fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(cols), 3.6), dpi=110)
        x = np.arange(len(cols))
        for i, row in enumerate(rows):
            vals = [self.cells[row].get(c, float("nan")) for c in cols]
            bars = ax.bar(x + i * width - 0.4 + width / 2, vals, width, label=row)
            ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=1)
        ax.set_xticks(x, cols)
        ax.set_title(self.title)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(rows))
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        write_with(target, lambda p: fig.savefig(p, format="png"))
        plt.close(fig)
        return Path(target)


def per_query_rows(per_query: pl.DataFrame, row: str) -> pl.DataFrame:
    """Per-query values of one table row from ``evaluate_run``'s (query_id, measure, value)."""
    return per_query.select(
        pl.lit(row, dtype=pl.String).alias("row"),
        pl.col("measure").alias("column"),
        "query_id",
        "value",
    )


def load_table(metrics_dir: str | Path, data_dir: str | Path, name: str) -> Table:
    """Read a saved table back (cells from the metrics JSON, layout, per-query values)."""
    metrics_dir, data_dir = Path(metrics_dir), Path(data_dir)
    metrics_file = metrics_dir / f"{name}.json"
    layout_file = data_dir / f"{name}.table.json"
    for f in (metrics_file, layout_file):
        if not f.exists():
            raise FileNotFoundError(f"table {name!r}: {f} is missing (run its stage first)")
    cells = json.loads(metrics_file.read_text())
    layout = json.loads(layout_file.read_text())
    pq_file = data_dir / f"{name}.per_query.parquet"
    return table_from_layout(
        name, cells, layout, pl.read_parquet(pq_file) if pq_file.exists() else None
    )


def table_from_layout(
    name: str, cells: dict, layout: dict, per_query: pl.DataFrame | None
) -> Table:
    """A table from its metrics cells, its layout (``<name>.table.json``) and per-query values."""
    noise = layout.get("noise")
    return Table(
        name=name,
        title=layout["title"],
        cells={r: cells[r] for r in layout["rows"] if r in cells},
        higher_is_better=layout["higher_is_better"],
        per_query=per_query,
        row_label=layout.get("row_label", "run"),
        provenance=Provenance(**layout["provenance"]),
        notes=layout.get("notes", []),
        stored_noise=TableNoise.from_dict(noise) if noise else None,
    )


def interval_text(ci: tuple[float, float], digits: int = 3) -> str:
    """``[0.512, 0.688]``."""
    return f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def _fmt(v: Any, digits: int) -> str:
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _provenance_markdown(p: Provenance) -> str:
    exp = f", experiment `{p.experiment}`" if p.experiment else ""
    lines = [f"<sub>revision `{p.revision}`{exp}"]
    if p.params:
        lines.append(" · params: " + ", ".join(f"`{k}={v}`" for k, v in sorted(p.params.items())))
    if p.data:
        lines.append(" · data: " + ", ".join(f"`{k}` {h[:10]}" for k, h in p.data.items()))
    return "".join(lines) + "</sub>"

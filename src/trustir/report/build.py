"""Gather the paper tables present in a project into the offline HTML report."""

from __future__ import annotations

from pathlib import Path

from trustir.io.atomic import write_text
from trustir.report.catalog import TABLES
from trustir.report.html import ReportSection, report_html
from trustir.report.table import load_table


def report_sections(root: Path) -> list[ReportSection]:
    """One section per catalog table; a table whose stage has not run is marked missing."""
    sections = []
    for entry in TABLES:
        anchor, heading = entry.name, entry.paper
        try:
            table = load_table(root / "metrics", root / entry.data_dir, entry.name)
        except FileNotFoundError:
            sections.append(ReportSection(anchor, heading, None, missing="not built"))
            continue
        plot = root / entry.plot if entry.plot else None
        sections.append(ReportSection(anchor, heading, table, plot))
    return sections


def noise_summary(root: Path) -> str:
    """Per paper table present: its n, its widest 95 % interval (and where), its MDE and whether
    it is smoke-sized, as one Markdown table (the figures a closing note lists)."""
    lines = [
        "| table | n | widest interval (row / column) | MDE | smoke-sized |",
        "|---|---|---|---|---|",
    ]
    for section in report_sections(Path(root)):
        noise = None if section.table is None else section.table.noise
        if noise is None:
            why = "not built" if section.table is None else "no per-query values"
            lines.append(f"| {section.anchor} | – | {why} | – | – |")
            continue
        width, row, col = max(
            (hi - lo, r, c) for r, cols in noise.intervals.items() for c, (lo, hi) in cols.items()
        )
        lines.append(
            f"| {section.anchor} | {noise.n_text} | {width:.3f} ({row} / {col}) | "
            f"{noise.mde:.3g} | {'yes' if noise.smoke else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def write_report(root: Path, target: str | Path = "reports/index.html") -> Path:
    """Write ``reports/index.html`` (atomically) from the tables under ``root``."""
    target = Path(root) / target
    return write_text(report_html(report_sections(Path(root)), "trustir: paper tables"), target)

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


def write_report(root: Path, target: str | Path = "reports/index.html") -> Path:
    """Write ``reports/index.html`` (atomically) from the tables under ``root``."""
    target = Path(root) / target
    return write_text(report_html(report_sections(Path(root)), "trustir: paper tables"), target)

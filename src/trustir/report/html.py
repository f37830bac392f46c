"""The offline HTML report: one static page with every paper table, its notes and provenance,
and its PNG plot embedded as a data URI (no scripts, no fonts or styles from the network)."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trustir.report.noise import SMOKE_NOTE, STUDY_LINK
from trustir.report.table import Table, interval_text

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
thead th { background: #eef2f7; } tbody th { text-align: left; font-weight: 600; }
td.best { font-weight: 700; background: #e8f5e9; } td.sig { background: #fff3cd; }
.prov, .legend, .notes { font-size: 0.8rem; color: #555; }
td .ci { display: block; font-size: 0.75rem; color: #666; font-weight: 400; }
td.noise { color: #777; } p.smoke { font-weight: 700; color: #8a4b00; }
img { max-width: min(100%, 760px); display: block; }
nav a { margin-right: 1rem; }
"""


def page(title: str, body: str) -> str:
    """A complete HTML document around ``body``."""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def _fmt(v: object, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{digits}f}" if isinstance(v, float) else html.escape(str(v))


def table_html(table: Table) -> str:
    """One table (best cell per column highlighted; its 95 % interval under each value that has
    one), its notes, its noise statement (n, MDE; the smoke-sized warning) and provenance."""
    cols = table.columns
    best = {c: table.best_row(c) for c in cols}
    arrows = {c: "↑" if table.better(c) else "↓" for c in cols}
    head = "".join(f"<th>{html.escape(c)} {arrows[c]}</th>" for c in cols)
    body = []
    for row, vals in table.cells.items():
        tds = []
        for c in cols:
            cls = " class='best'" if best[c] == row and len(table.cells) > 1 else ""
            ci = table.interval(row, c)
            ci_html = "" if ci is None else f"<span class='ci'>{interval_text(ci)}</span>"
            tds.append(f"<td{cls}>{_fmt(vals.get(c))}{ci_html}</td>")
        body.append(f"<tr><th>{html.escape(row)}</th>{''.join(tds)}</tr>")
    p = table.provenance
    prov = f"revision {p.revision}" + (f", experiment {p.experiment}" if p.experiment else "")
    if p.params:
        prov += " · params: " + ", ".join(f"{k}={v}" for k, v in sorted(p.params.items()))
    if p.data:
        prov += " · data: " + ", ".join(f"{k} {h[:10]}" for k, h in p.data.items())
    notes = "".join(f"<p class='notes'>{html.escape(n)}</p>" for n in table.notes)
    noise = table.noise
    if noise is not None:
        notes += f"<p class='notes'>{html.escape(noise.note())}</p>"
        if noise.smoke:
            notes += (
                f"<p class='smoke'>{html.escape(SMOKE_NOTE)}: the intervals are wider than the "
                f"spread of the rows (<a href='../{STUDY_LINK}'>study figures</a>).</p>"
            )
    return (
        f"<table><thead><tr><th>{html.escape(table.row_label)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{notes}"
        f"<p class='prov'>{html.escape(prov)}</p>"
    )


def png_img(path: Path, alt: str) -> str:
    """An ``<img>`` with the PNG inlined as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


@dataclass(frozen=True)
class ReportSection:
    """One paper's part of the report: its table and, when drawn, its plot."""

    anchor: str
    heading: str
    table: Table | None
    plot: Path | None = None
    missing: str | None = None


def report_html(sections: Sequence[ReportSection], title: str = "trustir report") -> str:
    """The whole report: a table of contents, then one section per paper table."""
    nav = " ".join(f"<a href='#{s.anchor}'>{html.escape(s.heading)}</a>" for s in sections)
    parts = [f"<nav>{nav}</nav>"]
    for s in sections:
        parts.append(f"<section id='{s.anchor}'><h2>{html.escape(s.heading)}</h2>")
        if s.table is None:
            parts.append(f"<p><em>{html.escape(s.missing or 'not built')}</em></p></section>")
            continue
        if s.table.title.lower() != s.heading.lower():
            parts.append(f"<h3>{html.escape(s.table.title)}</h3>")
        parts.append(table_html(s.table))
        if s.plot is not None and s.plot.exists():
            parts.append(png_img(s.plot, s.table.title))
        parts.append("</section>")
    return page(title, "\n".join(parts))

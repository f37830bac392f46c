"""Where each paper table lives: one entry per table written through :class:`Table`.

A table ``name`` is stored as ``metrics/<name>.json`` (a DVC metric, in git) plus
``<data_dir>/<name>.table.json`` and ``<data_dir>/<name>.per_query.parquet`` (in the
``data_dir`` output of the stage that wrote it, in DVC's cache). The HTML report, the ``report``
stage and ``trustir compare`` read every table through this list, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableEntry:
    """One paper table: its file stem, the stage output folder holding its layout, its paper."""

    name: str
    data_dir: str
    paper: str
    plot: str | None = None  # reports/plots/<name>.png when the stage draws one


def _entry(name: str, data_dir: str, paper: str) -> TableEntry:
    return TableEntry(name, data_dir, paper, f"reports/plots/{name}.png")


#: every paper table, in report order (P numbers as in PAPERS.md).
TABLES: tuple[TableEntry, ...] = (
    _entry("retrieval", "data/evaluate", "first-stage retrieval"),
    _entry("multipos", "data/multipos", "P3 multi-positive retriever training"),
    _entry("ltr", "data/ltr", "P8 learning to rank: clicks vs LLM labels"),
    TableEntry("clickmodels", "data/clicks", "P8 click models"),
    _entry("boom", "data/boom/table", "P5 multi-task training and model merging"),
    _entry("authority", "data/authority", "P1 AuthorityBench"),
    _entry("calibration", "data/calibration", "P4 MACE calibration under several correct answers"),
    _entry("mmeb", "data/mmeb", "P2 CoCoA / P7 CoMa multimodal embedding pre-training"),
    _entry("vidore", "data/vidore", "P6 AGREE attention-grounded visual document retrieval"),
    _entry("prag", "data/prag", "P9 Parametric RAG: documents as LoRAs"),
    _entry("lvlm", "data/lvlm", "P10 LVLM knowledge boundaries: VLM vs its text-only LLM"),
    TableEntry("judges", "data/judge_bench", "LLM judges on pooled train pairs (issue 13)"),
)


def table_entry(name: str) -> TableEntry:
    """The catalog entry of ``name``; a clear error lists the known tables otherwise."""
    for entry in TABLES:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in TABLES)
    raise KeyError(f"unknown table {name!r}; known: {known}")

"""P2/P7's table: Precision@1 per pre-training variant and task, per-item values, paired tests."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from trustir.evaluate.significance import randomization
from trustir.report import Provenance, Table
from trustir.vision.params import VisionParams

TITLE = "P2 CoCoA / P7 CoMa: MMEB-like Precision@1 on the visual mini-world"


def mmeb_table(p: VisionParams, folder: Path, provenance: Provenance) -> Table:
    """The ``mmeb`` table from ``data/mm_train/<variant>/``: rows are variants, columns
    ``P@1`` (mean over tasks) and ``P@1/<task>``; per-item values (the overall column's items
    are every task's items); notes give randomization-test p-values of each variant vs none."""
    cells: dict[str, dict[str, float]] = {}
    parts = []
    for variant in p.variants:
        sub = folder / variant
        for f in ("metrics.json", "per_item.parquet"):
            if not (sub / f).is_file():
                raise FileNotFoundError(f"{sub / f} is missing (run mm_train@{variant})")
        cells[variant] = json.loads((sub / "metrics.json").read_text())
        items = pl.read_parquet(sub / "per_item.parquet")
        parts.append(
            items.select(
                pl.lit(variant).alias("row"),
                pl.concat_str(pl.lit("P@1/"), "task").alias("column"),
                pl.col("item_id").alias("query_id"),
                "value",
            )
        )
        parts.append(
            items.select(
                pl.lit(variant).alias("row"),
                pl.lit("P@1").alias("column"),
                pl.col("item_id").alias("query_id"),
                "value",
            )  # fmt: skip
        )
    per_query = pl.concat(parts)
    notes = [
        f"{p.pretrain_examples} pre-training + {p.contrastive_examples} contrastive examples per "
        f"variant (none: {p.contrastive_for('none')} contrastive); model {p.model}; "
        f"InfoNCE tau {p.tau}; CoMa K = {p.compression_tokens}."
    ]
    notes += _paired_notes(per_query, [v for v in p.variants if v != "none"])
    return Table(
        name="mmeb", title=TITLE, cells=cells, per_query=per_query, row_label="pre-training",
        provenance=provenance, notes=notes,
    )  # fmt: skip


def _paired_notes(per_query: pl.DataFrame, variants: list[str]) -> list[str]:
    """Randomization-test p-values of each variant vs none on the items of ``P@1``."""
    base = per_query.filter((pl.col("row") == "none") & (pl.col("column") == "P@1"))
    out = []
    for v in variants:
        other = per_query.filter((pl.col("row") == v) & (pl.col("column") == "P@1"))
        joined = base.join(other, on="query_id", suffix="_v").sort("query_id")
        pval = randomization(joined["value"].to_list(), joined["value_v"].to_list())
        out.append(f"{v} vs none, P@1 over {joined.height} items: randomization p = {pval:.3g}")
    return out

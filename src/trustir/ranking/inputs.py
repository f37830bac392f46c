"""Reading the DAG's outputs for P8's stages (so the stage scripts stay thin); light imports."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from trustir.tables import read_tables


def read_optional(folder: Path, names: list[str]) -> dict[str, pl.DataFrame | None]:
    """``<folder>/<name>.parquet`` for each name, None where a source has no such table."""
    return {
        n: pl.read_parquet(folder / f"{n}.parquet") if (folder / f"{n}.parquet").exists() else None
        for n in names
    }


def fetched(root: Path) -> dict[str, pl.DataFrame | None]:
    """corpus, queries, qrels (required) and domains, entities (None when absent)."""
    tables: dict[str, pl.DataFrame | None] = dict(
        read_tables(root / "data/fetch", ["corpus", "queries", "qrels"])
    )
    return tables | read_optional(root / "data/fetch", ["domains", "entities"])

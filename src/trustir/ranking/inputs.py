"""Reading the DAG's outputs for P8's stages (so the stage scripts stay thin); light imports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.evaluate.measures import default_min_rel
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params


def read_optional(folder: Path, names: list[str]) -> dict[str, pl.DataFrame | None]:
    """``<folder>/<name>.parquet`` for each name, None where a source has no such table."""
    return {
        n: pl.read_parquet(folder / f"{n}.parquet") if (folder / f"{n}.parquet").exists() else None
        for n in names
    }


def min_rel_of(params: Params) -> int:
    """Lowest grade counted as relevant (evaluate.min_rel, else by data source)."""
    if params.evaluate.min_rel is not None:
        return params.evaluate.min_rel
    return default_min_rel(params.data.source)


def fetched(root: Path) -> dict[str, pl.DataFrame | None]:
    """corpus, queries, qrels (required) and domains, entities (None when absent)."""
    tables: dict[str, pl.DataFrame | None] = dict(
        read_tables(root / "data/fetch", ["corpus", "queries", "qrels"])
    )
    return tables | read_optional(root / "data/fetch", ["domains", "entities"])

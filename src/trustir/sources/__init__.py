"""Where data comes from: the mini-world, a local BEIR folder, a BEIR download (one registry)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from trustir.config import DataParams


def fetch_tables(params: DataParams, root: Path | None = None) -> dict[str, pl.DataFrame]:
    """The contract tables (corpus, queries, qrels, ...) of the source named by ``data.source``."""
    from trustir.sources import beir, local, mini_world  # noqa: F401  (they register themselves)
    from trustir.sources.registry import SOURCES

    return SOURCES.get(params.source)(params, root)

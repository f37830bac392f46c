"""The ``local`` source: a BEIR-layout folder named by ``data.path`` (resolved against the repo)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from trustir.io.beir import read_beir
from trustir.paths import resolve_data_path
from trustir.sources.empty import handle_empty_documents
from trustir.sources.params import DataParams
from trustir.sources.registry import SOURCES
from trustir.sources.subset import subset


@SOURCES.register("local")
def load_local(params: DataParams, root: Path | None = None) -> dict[str, pl.DataFrame]:
    """Read the BEIR folder ``params.path`` and apply ``max_queries`` / ``max_docs``.

    A relative path resolves against ``root`` (default: the repo root), falling back to the
    user's repo inside DVC experiment copies (:func:`trustir.paths.resolve_data_path`).
    """
    if not params.path:
        raise ValueError("data.source is 'local' but data.path is not set (a BEIR-layout folder)")
    folder = resolve_data_path(params.path, root)
    tables = handle_empty_documents(read_beir(folder), params.empty_docs, str(params.path))
    return subset(tables, params.max_queries, params.max_docs, params.seed)

"""The registry of data sources: ``SOURCES.get(params.source)(params, root)``.

Every source is ``fn(params: DataParams, root: Path | None) -> dict[str, pl.DataFrame]``
returning at least the ``corpus``, ``queries`` and ``qrels`` tables (DESIGN.md contracts).
Sources register themselves with ``@SOURCES.register(name)`` in their own module: ``local``
(trustir.sources.local), ``beir`` (trustir.sources.beir) and ``world``
(trustir.sources.mini_world). ``SOURCES`` loads every module of ``trustir.sources`` on first
use, so adding a source is one module with its registration.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from trustir.registry import Registry
from trustir.sources.params import DataParams

SourceFn = Callable[[DataParams, Path | None], dict[str, pl.DataFrame]]

SOURCES: Registry[SourceFn] = Registry("source", autoload="trustir.sources")


def fetch_tables(params: DataParams, root: Path | None = None) -> dict[str, pl.DataFrame]:
    """The contract tables (corpus, queries, qrels, ...) of the source named by ``data.source``."""
    SOURCES.check(params.source, "data.source")  # a ValueError: a user error in the fetch stage
    return SOURCES.get(params.source)(params, root)

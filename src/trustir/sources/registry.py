"""The registry of data sources: ``SOURCES.get(params.source)(params, root)``.

Every source is ``fn(params: DataParams, root: Path | None) -> dict[str, pl.DataFrame]``
returning at least the ``corpus``, ``queries`` and ``qrels`` tables (DESIGN.md contracts).
Sources register themselves with ``@SOURCES.register(name)`` in their own module: ``local``
(trustir.sources.local), ``beir`` (trustir.sources.beir) and ``world``
(trustir.sources.mini_world); ``trustir.sources.fetch_tables`` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from trustir.config import DataParams
from trustir.registry import Registry

SourceFn = Callable[[DataParams, Path | None], dict[str, pl.DataFrame]]

SOURCES: Registry[SourceFn] = Registry("source")

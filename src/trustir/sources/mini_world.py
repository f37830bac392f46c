"""The ``world`` source: the embedded, seeded mini-world (see ``trustir.sources.world``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from trustir.sources.params import DataParams
from trustir.sources.registry import SOURCES


@SOURCES.register("world")
def load_world(params: DataParams, root: Path | None = None) -> dict[str, pl.DataFrame]:
    """Generate the mini-world at ``params.scale`` from ``params.seed``."""
    from trustir.sources.world import generate_world

    return generate_world(params.scale, params.seed, params.test_fraction)

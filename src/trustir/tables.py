"""Read and write a stage's folder of contract tables (``<dir>/<table>.parquet``), atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl

from trustir.io.atomic import disk_full_guard
from trustir.schema import TABLES, conform


def write_tables(tables: dict[str, pl.DataFrame], target: str | Path) -> Path:
    """Write every table as parquet into a fresh folder that replaces ``target`` in one rename.

    Tables named in the contracts are conformed first (types, column order).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with disk_full_guard(target):
        return _write_tables(tables, target)


def _write_tables(tables: dict[str, pl.DataFrame], target: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, df in tables.items():
            if name in TABLES:
                df = conform(df, name)
            df.write_parquet(tmp / f"{name}.parquet", compression="zstd")
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_tables(folder: str | Path, names: list[str] | None = None) -> dict[str, pl.DataFrame]:
    """Read ``<folder>/<name>.parquet`` for each name (all parquet files when ``names`` is None)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: run the stage that writes it first")
    if names is None:
        names = sorted(p.stem for p in folder.glob("*.parquet"))
    out = {}
    for name in names:
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing")
        out[name] = pl.read_parquet(path)
    return out

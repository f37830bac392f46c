"""Atomic writes: write to a temp file beside the target, then rename, so no half-written output."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

#: the mode of every output: 0666 less the process umask (read once: os.umask is process-wide).
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_OUTPUT_MODE = 0o666 & ~_UMASK


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success rename it onto ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes 0600 files; an output gets the usual mode (0666 less the umask).
        os.chmod(tmp_path, _OUTPUT_MODE)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_with(target: str | Path, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and atomically move the result to ``target``."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_parquet(df: pl.DataFrame, target: str | Path) -> Path:
    """Write a polars frame as parquet atomically (zstd, statistics; deterministic bytes)."""
    return write_with(target, lambda p: df.write_parquet(p, compression="zstd"))


def write_text(text: str, target: str | Path) -> Path:
    return write_with(target, lambda p: p.write_text(text))


def write_json(obj: Any, target: str | Path) -> Path:
    return write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n", target)

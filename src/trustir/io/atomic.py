"""Atomic writes: write to a temp file (or folder) beside the target, then rename, so no
half-written output."""

from __future__ import annotations

import errno
import json
import os
import shutil
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
_FOLDER_MODE = 0o777 & ~_UMASK


class DiskFullError(OSError):
    """No space was left on the device while writing an output; the previous output (if any)
    is untouched and the partial temp file deleted."""

    def __str__(self) -> str:  # the message alone, without OSError's "[Errno 28]" prefix
        return str(self.strerror)


#: errnos of a full device or quota.
_FULL = {errno.ENOSPC, errno.EDQUOT}


def _is_disk_full(exc: BaseException) -> bool:
    """True for ENOSPC/EDQUOT, also when a library (polars, pyarrow) re-raised it as text."""
    if isinstance(exc, OSError) and exc.errno in _FULL:
        return True
    text = str(exc)
    return "No space left on device" in text or "os error 28" in text or "Disk quota" in text


@contextmanager
def disk_full_guard(target: str | Path) -> Iterator[None]:
    """Turn a full device while writing ``target`` into :class:`DiskFullError` naming it."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as exc:
        if not _is_disk_full(exc):
            raise
        raise DiskFullError(
            errno.ENOSPC,
            f"no space left on the device while writing {target}; the previous output is "
            "untouched (free some space and re-run)",
        ) from exc


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success rename it onto ``target``.

    A full device raises :class:`DiskFullError` (the temp file is deleted, ``target`` kept).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with disk_full_guard(target), _atomic_path(target) as tmp:
        yield tmp


@contextmanager
def _atomic_path(target: Path) -> Iterator[Path]:
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


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield an empty temp folder beside ``target``; on success swap it in for ``target``.

    An existing ``target`` is first renamed aside, then the new folder renamed onto it, then the
    old one deleted: readers see the old folder or the complete new one, never a half-written
    one (for an instant between the two renames, none). On an error the temp folder is deleted
    and ``target`` is left as it was (a full device raises :class:`DiskFullError`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with disk_full_guard(target), _atomic_dir(target) as tmp:
        yield tmp


@contextmanager
def _atomic_dir(target: Path) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, _FOLDER_MODE)  # mkdtemp makes 0700 folders
        old = None
        if target.exists():  # renamed aside first: a folder can replace an empty folder only
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


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

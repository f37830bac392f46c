"""Disk full during a write (issue 19): on a small tmpfs every atomic writer and one stage fail
with a clear DiskFullError naming the output, and the previous output stays byte-identical.

Needs ``mount -t tmpfs`` (root with CAP_SYS_ADMIN); where mounting fails the tests skip, saying
so. The stage test runs ``stages/fetch.py`` on a BEIR fixture in a temp root whose ``data/`` is
the tmpfs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from trustir.io.atomic import (
    DiskFullError,
    atomic_dir,
    write_json,
    write_parquet,
    write_text,
)
from trustir.stage import BAD_INPUT_EXIT
from trustir.tables import write_tables

REPO = Path(__file__).resolve().parents[2]
SIZE = 256 * 1024


def _mount(where: Path, size: int) -> None:
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): {proc.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, unmounted after the test."""
    where = tmp_path / "disk"
    _mount(where, SIZE)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def fill(disk: Path, leave: int = 8 * 1024) -> None:
    """Fill ``disk`` until about ``leave`` bytes are free."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    (disk / "filler").write_bytes(b"\0" * max(free - leave, 0))


BIG = "x" * (64 * 1024)
WRITERS: dict[str, Callable[[Path, bool], None]] = {
    "write_text": lambda p, big: write_text(BIG if big else "previous\n", p),
    "write_json": lambda p, big: write_json({"v": BIG if big else "previous"}, p),
    "write_parquet": lambda p, big: write_parquet(
        pl.DataFrame({"v": [os.urandom(512).hex() for _ in range(200)] if big else ["previous"]}),
        p,
    ),
}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_full_disk_keeps_the_previous_file(small_disk: Path, writer: str) -> None:
    target = small_disk / "out" / "result"
    WRITERS[writer](target, False)
    before = target.read_bytes()
    fill(small_disk)
    with pytest.raises(DiskFullError) as info:
        WRITERS[writer](target, True)
    assert str(target) in str(info.value) and "previous output is untouched" in str(info.value)
    assert target.read_bytes() == before
    assert leftovers(target.parent) == []  # the partial temp file is gone


def test_a_full_disk_keeps_the_previous_folder(small_disk: Path) -> None:
    target = small_disk / "model"
    with atomic_dir(target) as tmp:
        (tmp / "weights.bin").write_bytes(b"previous")
    fill(small_disk)
    with (
        pytest.raises(DiskFullError, match="no space left on the device while writing"),
        atomic_dir(target) as tmp,
    ):
        (tmp / "weights.bin").write_bytes(os.urandom(64 * 1024))
    assert (target / "weights.bin").read_bytes() == b"previous"
    assert leftovers(small_disk) == []
    with pytest.raises(DiskFullError):
        write_tables(
            {"t": pl.DataFrame({"v": [os.urandom(512).hex() for _ in range(300)]})},
            small_disk / "tables",
        )
    assert leftovers(small_disk) == []


def test_the_fetch_stage_on_a_full_disk_fails_clearly_and_keeps_its_outputs(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "dvc.yaml").write_text("stages: {}\n")
    folder = REPO / "tests/fixtures/beir_cases/grades_0_2"
    (root / "params.yaml").write_text(f"data:\n  source: local\n  path: {folder}\n")
    _mount(root / "data", SIZE)
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        cmd = [sys.executable, str(REPO / "stages/fetch.py")]
        first = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        assert first.returncode == 0, first.stderr
        before = {p.name: p.read_bytes() for p in (root / "data/fetch").iterdir()}
        fill(root / "data", leave=2 * 1024)
        second = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        assert second.returncode == BAD_INPUT_EXIT  # a user error: never retried by the flow
        assert "Traceback" not in second.stderr
        assert "trustir fetch: error: no space left on the device while writing" in second.stderr
        assert {p.name: p.read_bytes() for p in (root / "data/fetch").iterdir()} == before
        assert leftovers(root / "data") == []
    finally:
        subprocess.run(["umount", str(root / "data")], check=False)

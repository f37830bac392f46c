"""``trustir.io.atomic``: the folder swap leaves the old folder or the complete new one."""

import os
import stat

import pytest

from trustir.io.atomic import atomic_dir


def test_atomic_dir_creates_the_folder_with_the_usual_mode(tmp_path):
    out = tmp_path / "sub" / "model"
    with atomic_dir(out) as tmp:
        assert tmp.parent == out.parent and tmp.is_dir() and not list(tmp.iterdir())
        (tmp / "a.txt").write_text("new")
    assert (out / "a.txt").read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert sorted(p.name for p in out.parent.iterdir()) == ["model"]  # no temp left behind


def test_atomic_dir_replaces_an_older_folder_whole(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "stale.bin").write_text("old")
    with atomic_dir(out) as tmp:
        (tmp / "fresh.bin").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["fresh.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_dir_leaves_the_old_folder_on_an_error(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "kept.bin").write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_dir(out) as tmp:
        (tmp / "half.bin").write_text("partial")
        raise RuntimeError("boom")
    assert sorted(p.name for p in out.iterdir()) == ["kept.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]

"""`make setup`'s tools/trustir-checkout.pth: a python started at a checkout's root imports that
checkout's ``src/`` (DVC's ``exp run --temp`` and queue run stages in copies of the repo, where
the editable install would import the live workspace's code instead)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PTH = Path(sysconfig.get_paths()["purelib"]) / "trustir-checkout.pth"


def _imported_from(cwd: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", "import trustir; print(trustir.__file__)"],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return Path(out.strip()).resolve()


@pytest.mark.skipif(not PTH.is_file(), reason="venv not made by `make setup` (no checkout .pth)")
def test_a_checkout_copy_imports_its_own_src(tmp_path: Path) -> None:
    assert PTH.read_text() == (ROOT / "tools/trustir-checkout.pth").read_text()  # installed = ours
    copy = tmp_path / "exp-copy"
    (copy / "src/trustir").mkdir(parents=True)
    (copy / "src/trustir/__init__.py").write_text("")
    (copy / "src/trustir/stage.py").write_text("")
    assert _imported_from(copy) == copy / "src/trustir/__init__.py"
    elsewhere = tmp_path / "not-a-checkout"
    elsewhere.mkdir()
    assert _imported_from(elsewhere) == (ROOT / "src/trustir/__init__.py").resolve()

"""Every stage script declares the params sections it reads, and only real sections.

A stage reads its params through a view of its declared sections (``trustir.stage``): an
undeclared section raises at run time, in whatever code path reads it. This test catches the
stage scripts' own reads before a run: every ``params.<section>`` in a script is declared."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from trustir.params import SECTIONS

STAGES = sorted((Path(__file__).resolve().parents[2] / "stages").glob("*.py"))


def load(script: Path):
    spec = importlib.util.spec_from_file_location(f"stage_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sections_read(script: Path) -> set[str]:
    """``X`` of every ``params.X`` in the script (``params`` being main's first argument)."""
    return {
        node.attr
        for node in ast.walk(ast.parse(script.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "params"
    }


@pytest.mark.parametrize("script", STAGES, ids=[s.stem for s in STAGES])
def test_stage_declares_what_it_reads(script: Path) -> None:
    declared = load(script).main.sections
    assert all(s in SECTIONS for s in declared), f"{script.name}: not a params section"
    names = [s.section_name for s in declared]
    assert len(set(names)) == len(names), f"{script.name}: a section declared twice"
    missing = sections_read(script) - set(names)
    assert not missing, f"{script.name} reads params section(s) {sorted(missing)} undeclared"


def test_reads_are_found() -> None:
    annotate = next(s for s in STAGES if s.stem == "annotate")
    assert sections_read(annotate) == {"annotate", "data", "evaluate", "llm", "scale"}

"""The run ledger: what describes one *run* of a stage (LLM calls, cache hits, tokens, wall
seconds), kept apart from its *results* (issue 20, part 2).

Result files (DVC outputs, ``metrics/*.json``, ``reports/*.md``) hold only figures that a cached
run and a cold run, or two machines, compute alike. Per-run figures go to
``runs/<output path>[.json]`` under the repo root: git ignores ``runs/`` and DVC does not track it,
so they never change a hash or show in ``git status``. ``trustir.llm.ledger`` also appends every
LLM run to the label cache's ``ledger.jsonl`` (the history across runs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trustir.paths import repo_root

#: the git-ignored folder of run records, relative to the repo root.
RUNS_DIR = "runs"


def run_record_path(output: str | Path, root: str | Path | None = None) -> Path:
    """Where the run record of ``output`` (a stage's output file or folder) goes:
    ``<root>/runs/<output relative to root>`` (``.json`` added unless it has it)."""
    base = Path(root).resolve() if root else repo_root(Path(output).parent)
    out = Path(output)
    if out.is_absolute():
        out = out.resolve()
        rel = out.relative_to(base) if out.is_relative_to(base) else Path(out.name)
    else:
        rel = out
    name = rel.as_posix() if rel.suffix == ".json" else f"{rel.as_posix()}.json"
    return base / RUNS_DIR / name


def write_run_record(
    output: str | Path, record: dict[str, Any], root: str | Path | None = None
) -> Path:
    """Write ``record`` (JSON-able) as the run record of ``output``; returns its path."""
    from trustir.io.atomic import write_json

    return write_json(record, run_record_path(output, root))


def read_run_record(output: str | Path, root: str | Path | None = None) -> dict[str, Any]:
    """The run record of ``output`` ({} when this checkout never ran it: e.g. a fresh clone)."""
    path = run_record_path(output, root)
    return json.loads(path.read_text()) if path.exists() else {}

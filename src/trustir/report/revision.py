"""Read paper tables as they were at a git revision, tag or DVC experiment, without checking
anything out: git-tracked files (``metrics/*.json``) from the commit, DVC outputs (the table
layout and per-query values) from DVC's cache or, failing that, its default remote.

When a revision's DVC-tracked data can be reached from neither (a fresh clone: the committed
revision's data lives on the lab's machines), its tables fall back to the git-tracked
``metrics/<name>.json`` alone: cells without per-query values, so ``compare`` gives deltas
without p-values and says why (``Revision.fallbacks``).
"""

from __future__ import annotations

import io
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from trustir.report.catalog import TableEntry
from trustir.report.provenance import Provenance
from trustir.report.table import Table, table_from_layout

WORKSPACE = "workspace"


class RevisionError(RuntimeError):
    """A revision that cannot be read, or a table it does not have."""


class DataUnreachable(RevisionError):
    """A DVC-tracked file whose data is in neither the DVC cache nor the default remote."""


class Revision:
    """The project at ``rev`` (a git revision, tag, branch or DVC experiment name; ``None`` or
    "workspace" = the files on disk)."""

    def __init__(self, root: str | Path, rev: str | None) -> None:
        self.root = Path(root).resolve()
        self.rev = None if rev in (None, WORKSPACE) else rev
        #: table name -> why it was read from its git-tracked metrics alone
        self.fallbacks: dict[str, str] = {}

    @property
    def label(self) -> str:
        return self.rev or WORKSPACE

    @cached_property
    def sha(self) -> str | None:
        """The commit ``rev`` names (experiment names resolved as DVC does)."""
        if self.rev is None:
            return None
        from dvc.repo import Repo
        from dvc.scm import RevError, resolve_rev

        try:
            with Repo(str(self.root)) as repo:
                return resolve_rev(repo.scm, self.rev)
        except RevError as exc:
            raise RevisionError(
                f"unknown revision {self.rev!r} (not a git revision, tag, branch or DVC "
                f"experiment of {self.root.name}): {exc}"
            ) from None

    @cached_property
    def _fs(self) -> Any:
        from dvc.api import DVCFileSystem

        return DVCFileSystem(str(self.root), rev=self.sha)

    def exists(self, path: str) -> bool:
        """Whether ``path`` (relative to the repo root) exists at this revision."""
        if self.rev is None:
            return (self.root / path).exists()
        try:
            return bool(self._fs.exists(path))
        except Exception as exc:  # a tracked folder whose listing is in no cache nor remote
            raise DataUnreachable(
                f"revision {self.label} ({self.sha[:7]}): cannot list {path} ({type(exc).__name__}"
                f": {exc}); its DVC-tracked data is in neither the DVC cache nor the default remote"
            ) from None

    def read_bytes(self, path: str) -> bytes:
        """The bytes of ``path`` at this revision (git, then DVC cache, then the DVC remote)."""
        if self.rev is None:
            target = self.root / path
            if not target.exists():
                raise RevisionError(f"{self.label}: {path} does not exist")
            return target.read_bytes()
        try:
            if self._fs.exists(path):
                return self._fs.read_bytes(path)
            for parent in Path(path).parents:  # a tracked folder whose listing is not cached
                if str(parent) != "." and self._fs.exists(str(parent)):
                    self._fs.ls(str(parent))
                    break
        except Exception as exc:  # DVC's own errors, dvc_data's DataIndexDirError, OSError
            raise DataUnreachable(
                f"revision {self.label} ({self.sha[:7]}): {path} is tracked by DVC but its data "
                f"is in neither the DVC cache nor the default remote ({type(exc).__name__}: "
                f"{exc}); run `dvc pull`, or reproduce that revision and `dvc push`"
            ) from None
        raise RevisionError(f"revision {self.label} ({self.sha[:7]}) has no {path}")

    def has_table(self, entry: TableEntry) -> bool:
        return self.exists(f"metrics/{entry.name}.json")

    def load_table(self, entry: TableEntry) -> Table:
        """The table ``entry`` at this revision (cells, layout, per-query values, provenance)."""
        metrics = f"metrics/{entry.name}.json"
        if not self.exists(metrics):
            raise RevisionError(
                f"revision {self.label} has no table {entry.name!r} ({metrics} is missing: "
                "its stage did not run there)"
            )
        cells = json.loads(self.read_bytes(metrics))
        try:
            layout = json.loads(self.read_bytes(f"{entry.data_dir}/{entry.name}.table.json"))
            pq_path = f"{entry.data_dir}/{entry.name}.per_query.parquet"
            per_query = (  # tables of aggregates only (e.g. click-model fit) keep none
                pl.read_parquet(io.BytesIO(self.read_bytes(pq_path)))
                if self.exists(pq_path)
                else None
            )
        except DataUnreachable:
            return self._metrics_only(entry, cells)
        return table_from_layout(entry.name, cells, layout, per_query)

    def _metrics_only(self, entry: TableEntry, cells: dict[str, Any]) -> Table:
        """The table from its git-tracked metrics alone (no layout, no per-query values)."""
        self.fallbacks[entry.name] = (
            f"{self.label} ({(self.sha or '')[:7]}): its DVC-tracked data is in neither the DVC "
            f"cache nor the default remote, so its cells come from the git-tracked "
            f"metrics/{entry.name}.json (deltas without p-values or intervals; `dvc pull` from "
            "a lab remote gives them)"
        )
        rows = {r: v for r, v in cells.items() if isinstance(v, dict)}
        return Table(name=entry.name, title=entry.paper, cells=rows, provenance=Provenance())

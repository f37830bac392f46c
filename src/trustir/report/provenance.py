"""Provenance of a table: content hashes of its inputs (dvc.lock), non-default params, revision."""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Provenance:
    """Where a table's numbers come from (enough to rebuild or compare them)."""

    #: {path: md5} of the DVC outputs the table was computed from (as recorded in dvc.lock).
    data: dict[str, str] = field(default_factory=dict)
    #: params that differ from trustir's defaults, ``{"data.source": "local"}``.
    params: dict[str, Any] = field(default_factory=dict)
    #: the git revision and, inside ``dvc exp run``, the experiment name DVC gives it.
    revision: str = "workspace"
    experiment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lock_hashes(lock_path: Path, stages: list[str]) -> dict[str, str]:
    """md5 of every output of ``stages`` as dvc.lock records them (dirs hash as ``.dir``)."""
    if not lock_path.exists():
        return {}
    lock = yaml.safe_load(lock_path.read_text()) or {}
    out: dict[str, str] = {}
    for name, stage in (lock.get("stages") or {}).items():
        base = name.split("@", 1)[0]
        if name not in stages and base not in stages:
            continue
        for o in stage.get("outs", []):
            out[o["path"]] = o.get("md5", "")
    return dict(sorted(out.items()))


def git_revision(root: Path) -> str:
    """The short commit hash of HEAD (``workspace`` outside git)."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607  git from PATH, fixed argv
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "workspace"
    return rev or "workspace"


def collect_provenance(
    root: Path, input_stages: list[str], params: dict[str, Any] | None = None
) -> Provenance:
    """Provenance of a table computed now from the outputs of ``input_stages``.

    Inside ``dvc exp run`` DVC sets ``DVC_EXP_BASELINE_REV`` and ``DVC_EXP_NAME``; those name the
    revision, since the experiment's own commit does not exist yet while its stages run.
    """
    baseline = os.environ.get("DVC_EXP_BASELINE_REV")
    return Provenance(
        data=lock_hashes(root / "dvc.lock", input_stages),
        params=params or {},
        revision=baseline[:7] if baseline else git_revision(root),
        experiment=os.environ.get("DVC_EXP_NAME"),
    )

"""Reading a repo's revisions: git, a ``dvc.lock``'s stages, the DVC experiments of ``HEAD``,
and the metrics files committed at a revision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = "params.yaml"
LOCK_FILE = "dvc.lock"
METRICS_DIR = "metrics"


@dataclass(frozen=True)
class LockEntry:
    """One stage of a ``dvc.lock``: its params (as DVC keys them: ``llm``, ``evaluate.min_rel``),
    its deps' hashes by path, and its outs' paths."""

    params: dict[str, Any]
    deps: dict[str, str | None]
    outs: tuple[str, ...]


@dataclass(frozen=True)
class Experiment:
    """One DVC experiment of the baseline commit, as ``dvc exp show --json`` describes it."""

    name: str
    rev: str
    params: dict[str, Any]
    deps: dict[str, str | None]


class ExperimentFailed(RuntimeError):
    """``dvc exp run`` exited non-zero; the message ends with the tail of its stderr."""

    def __init__(self, name: str, returncode: int, stderr_tail: Iterable[str]) -> None:
        tail = "\n".join(line for line in stderr_tail if line.strip())
        super().__init__(f"experiment '{name}' failed (dvc exp run exit {returncode}):\n{tail}")
        self.name, self.returncode = name, returncode


# ------------------------------------------------------------------------ git and DVC


def git(root: Path, *args: str) -> str:
    """``git ARGS`` in ``root``; its stdout (raises ``RuntimeError`` with stderr on failure)."""
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)  # noqa: S603, S607  git from PATH, argv list, no shell
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
    return proc.stdout


def git_show(root: Path, rev: str, path: str) -> str | None:
    """The text of ``path`` at ``rev``, or None where that commit lacks it."""
    proc = subprocess.run(  # noqa: S603  git, argv list, no shell
        ["git", "show", f"{rev}:{path}"],  # noqa: S607  git from PATH
        cwd=root,
        capture_output=True,
        text=True,  # noqa: S607  git from PATH
    )
    return proc.stdout if proc.returncode == 0 else None


def dvc_json(root: Path, *args: str) -> Any:
    """``dvc ARGS --json`` in ``root``, parsed; the DVC of this interpreter, offline."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(  # noqa: S603  git, argv list, no shell
        [sys.executable, "-m", "dvc", *args, "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} failed in {root}:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout or "{}")  # DVC writes NaN for undefined metrics: json reads it


# ------------------------------------------------------------------------ dvc.lock


def lock_entries(text: str | None) -> dict[str, LockEntry]:
    """The stages of a ``dvc.lock`` text (empty for None or an empty lock)."""
    stages = (yaml.safe_load(text or "") or {}).get("stages") or {}
    return {name: _lock_entry(entry or {}) for name, entry in stages.items()}


def _lock_entry(entry: Mapping[str, Any]) -> LockEntry:
    params: dict[str, Any] = {}
    for values in (entry.get("params") or {}).values():
        params.update(values or {})
    deps = {d["path"]: _hash(d) for d in entry.get("deps") or []}
    return LockEntry(params, deps, tuple(o["path"] for o in entry.get("outs") or []))


def _hash(item: Mapping[str, Any]) -> str | None:
    return item.get("md5") or item.get("etag") or item.get("checksum") or item.get("hash")


def upstream(entries: Mapping[str, LockEntry], stage: str) -> list[str]:
    """The stages whose outs ``stage`` depends on, directly or through others (lock order)."""
    wanted: set[str] = set()
    todo = [stage]
    while todo:
        deps = entries[todo.pop()].deps
        for name, entry in entries.items():
            if name not in wanted and any(_feeds(o, d) for o in entry.outs for d in deps):
                wanted.add(name)
                todo.append(name)
    return [name for name in entries if name in wanted and name != stage]


def _feeds(out: str, dep: str) -> bool:
    return dep == out or dep.startswith(out.rstrip("/") + "/")


# ------------------------------------------------------------------------ experiments


def experiments(root: Path) -> list[Experiment]:
    """The experiments of ``HEAD`` (``dvc exp show --json``), newest first."""
    head = git(root, "rev-parse", "HEAD").strip()
    found: list[Experiment] = []
    for commit in dvc_json(root, "exp", "show", "--no-fetch"):
        if commit.get("rev") != head:
            continue
        for group in commit.get("experiments") or []:
            for rev in group.get("revs") or []:
                data = rev.get("data") or {}
                params = ((data.get("params") or {}).get(PARAMS_FILE) or {}).get("data") or {}
                deps = {p: (d or {}).get("hash") for p, d in (data.get("deps") or {}).items()}
                found.append(Experiment(rev.get("name") or "", rev["rev"], params, deps))
    return found


def experiment_rev(root: Path, name: str) -> str:
    """The commit of experiment ``name`` of ``HEAD`` (DVC keeps it under ``refs/exps``)."""
    head = git(root, "rev-parse", "HEAD").strip()
    ref = f"refs/exps/{head[:2]}/{head[2:]}/{name}"
    return git(root, "rev-parse", "--verify", f"{ref}^{{commit}}").strip()


def exp_run_command(set_params: Sequence[str], name: str) -> list[str]:
    """``dvc exp run [-S k=v ...] -n NAME``."""
    sets = [arg for s in set_params for arg in ("-S", s)]
    return ["dvc", "exp", "run", *sets, "-n", name]


def default_name(now: datetime | None = None) -> str:
    """``reannotate-YYYYmmdd-HHMMSS`` (UTC): unique per second, a valid git ref name."""
    return f"reannotate-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}"


# ------------------------------------------------------------------------ metrics


def metrics_at(root: Path, rev: str) -> dict[str, Any]:
    """Every ``metrics/*.json`` committed at ``rev``, by path (empty where there is none)."""
    listing = subprocess.run(  # noqa: S603  git, argv list, no shell
        ["git", "ls-tree", "--name-only", rev, f"{METRICS_DIR}/"],  # noqa: S607  git from PATH
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.split()
    found = {}
    for path in sorted(p for p in listing if p.endswith(".json")):
        text = git_show(root, rev, path)
        if text is not None:
            found[path] = json.loads(text)
    return found
